import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReconciliationReport, reportToCsv, reportToHtml } from './reconciliation-report';

const report: ReconciliationReport = {
  id: '7',
  submissionId: '42',
  projectName: 'Riverside <MOB> & "Annex"',
  submissionStatus: 'out_of_sync',
  ranAt: '2026-11-25T10:00:00.000Z',
  outcome: 'out_of_sync',
  spectrumCompany: 'ABC',
  job: '26-101',
  tolerance: '0.00',
  explanation: "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on.",
  varianceCount: 2,
  totals: { procoreRevised: '1300.00', spectrumEstimated: '1075.00', variance: '-225.00' },
  rows: [
    { job: '26-101', phase: '01100', costType: 'L', description: 'Line\nbreak, and "quotes"', procoreRevised: '1250.00', spectrumEstimated: '1000.00', variance: '-250.00', status: 'amount_differs' },
    { job: '26-101', phase: '09000', costType: 'O', description: '+SUM(A1)', procoreRevised: null, spectrumEstimated: '75.00', variance: '75.00', status: 'not_in_budget' },
    { job: '26-101', phase: '02000', costType: 'M', description: '@x', procoreRevised: '50.00', spectrumEstimated: null, variance: '-50.00', status: 'missing_in_spectrum' },
    { job: '26-101', phase: '03300', costType: 'M', description: 'Concrete', procoreRevised: '0.00', spectrumEstimated: '0.00', variance: '0.00', status: 'matched', removed: true, note: 'not in this version of the budget: set to 0.00 (an earlier export wrote 5000.00)' },
  ],
};

describe('reconciliation report rendering', () => {
  it('CSV quotes per RFC 4180, defuses formulas in text (never in amounts), ends with a TOTAL row', () => {
    expect(reportToCsv(report)).toBe(
      'job,phase,costType,description,procoreRevised,spectrumEstimated,variance,status,note\r\n' +
        '26-101,01100,L,"Line\nbreak, and ""quotes""",1250.00,1000.00,-250.00,amount_differs,\r\n' +
        "26-101,09000,O,'+SUM(A1),,75.00,75.00,not_in_budget,\r\n" +
        "26-101,02000,M,'@x,50.00,,-50.00,missing_in_spectrum,\r\n" +
        '26-101,03300,M,Concrete,0.00,0.00,0.00,matched,not in this version of the budget: set to 0.00 (an earlier export wrote 5000.00)\r\n' +
        'TOTAL,,,,1300.00,1075.00,-225.00,out_of_sync,\r\n',
    );
  });

  it('HTML escapes every value', () => {
    const html = reportToHtml(report);
    expect(html).toContain('<title>Reconciliation report: Riverside &lt;MOB&gt; &amp; &quot;Annex&quot; (budget 42)</title>');
    expect(html).toContain('the Job Cost option &#x27;Current Estimate display only&#x27; may be on.');
    expect(html).toContain('<td>Missing in Spectrum</td>');
    expect(html).toContain('<td>Matches<br><small>not in this version of the budget: set to 0.00 (an earlier export wrote 5000.00)</small></td>');
    expect(html).toContain('<td class="num"><span class="none">—</span></td>');
    expect(html).not.toMatch(/<MOB>/);
    const rows = [{ ...report.rows[0], description: '<a href="x">`\'&=', note: '<script>' }];
    expect(reportToHtml({ ...report, rows })).toContain('<td>&lt;a href&#x3D;&quot;x&quot;&gt;&#x60;&#x27;&amp;&#x3D;</td>');
    expect(reportToHtml({ ...report, rows })).toContain('<small>&lt;script&gt;</small>');
  });

  it('HTML comes from a Handlebars template in strict mode, with no unescaped output and no script (HTML_REPORT_CSP)', () => {
    const template = readFileSync(join(__dirname, 'templates', 'report.html.hbs'), 'utf8');
    expect(template).not.toMatch(/\{\{\{|\{\{&|<script|\son\w+=/i);
    const { job: _job, ...withoutJob } = report;
    expect(() => reportToHtml(withoutJob as ReconciliationReport)).toThrow(/"job" not defined/);
    const html = reportToHtml(report);
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<tr class="amount_differs"><td>26-101</td><td>01100</td><td>L</td><td>Line\nbreak, and &quot;quotes&quot;</td><td class="num">1250.00</td><td class="num">1000.00</td><td class="num">-250.00</td><td>Amount differs</td></tr>');
    expect(html).toContain('<dd>42 (now out of sync)</dd>');
    expect(html).toContain('<span class="outcome out_of_sync">Out of sync</span>');
    expect(html).toContain('<tfoot><tr><td colspan="4">Total</td><td class="num">1300.00</td><td class="num">1075.00</td><td class="num">-225.00</td><td></td></tr></tfoot>');
  });
});
