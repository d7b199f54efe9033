import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dailySummary,
  failedToExport,
  HOSTILE_REASON,
  outOfSync,
  PUBLIC_URL,
  rejected,
  reSent,
  SAMPLES,
  submission,
  TIME_ZONE,
} from '../../test/notifications/email-samples';
import { EMAIL_KINDS, EmailKind, EmailModels } from './email-content';
import { displayDate, displayMoney, TemplateRenderer, TemplateRenderError } from './template-renderer';

const TEMPLATES = join(__dirname, 'templates');

describe('TemplateRenderer', () => {
  const renderer = new TemplateRenderer({ publicUrl: PUBLIC_URL, timeZone: TIME_ZONE });
  const render = <K extends EmailKind>(kind: K, model: EmailModels[K]) => renderer.render(kind, model);

  describe('every email', () => {
    it.each(EMAIL_KINDS)('%s renders a subject, a full HTML document and a text part', (kind) => {
      const email = renderer.render(kind, SAMPLES[kind]() as never);
      expect(email.subject).not.toMatch(/[\r\n]/);
      expect(email.subject.length).toBeGreaterThan(10);
      expect(email.html).toMatch(/^<!DOCTYPE html>/);
      expect(email.html).toContain('</html>');
      expect(email.html).toContain('Procore &rarr; Spectrum budget connector');
      expect(email.text).toContain('Procore to Spectrum budget connector: https://erp-connector.example.com');
      expect(email.text.endsWith('\n')).toBe(true);
      expect(email.text).not.toMatch(/\n{3,}/);
      expect(email.text).not.toMatch(/&(amp|lt|gt|quot);/);
    });

    it('never outputs a value unescaped in HTML templates', () => {
      const sources = readdirSync(TEMPLATES, { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.hbs') && !file.includes('text') && !file.endsWith('subject.hbs'));
      expect(sources.length).toBeGreaterThan(10);
      for (const file of sources) {
        expect(readFileSync(join(TEMPLATES, file), 'utf8')).not.toMatch(/\{\{\{|\{\{&/);
      }
    });

    it('reads and compiles every template once, at construction', () => {
      const dir = mkdtempSync(join(tmpdir(), 'templates-'));
      cpSync(TEMPLATES, dir, { recursive: true });
      const fresh = new TemplateRenderer({ publicUrl: PUBLIC_URL, timeZone: TIME_ZONE, templatesDir: dir });
      rmSync(dir, { recursive: true, force: true });
      for (const kind of EMAIL_KINDS) {
        expect(fresh.render(kind, SAMPLES[kind]() as never).html).toContain('</html>');
      }
    });
  });

  describe('daily summary', () => {
    it('has exactly the subject the product promises', () => {
      expect(render('daily-summary', dailySummary()).subject).toBe('ERP Integrations Daily Summary');
    });

    it('lists every submission with its sender, time, lines, total and link', () => {
      const { html, text } = render('daily-summary', dailySummary());
      expect(text).toContain('3 budgets await your acceptance as of Tue, Mar 11, 2025, 7:00 AM CDT.');
      expect(html).toContain('<strong>3 budgets await your acceptance</strong>');
      for (const body of [html, text]) {
        expect(body).toContain('Riverside Medical Office Building');
        expect(body).toContain('Oak Street Parking Garage');
        expect(body).toContain('Lakeview School Renovation');
        expect(body).toContain('Mon, Mar 10, 2025, 7:05 AM CDT');
        expect(body).toContain('1,234,567.89');
        expect(body).toContain('-12.05');
        expect(body).toContain('987,654,321.00');
        expect(body).toContain('988,888,876.84');
        expect(body).toContain('Procore (automatic poll)');
        expect(body).toContain(`${PUBLIC_URL}/console/budgets/1047`);
      }
      expect(text).toContain(`${PUBLIC_URL}/console/budgets?status=ready_to_export`);
      // Handlebars escapes "=" too; clients decode it in the href.
      expect(html).toContain(`href="${PUBLIC_URL}/console/budgets?status&#x3D;ready_to_export"`);
      expect(text).toContain('2. Oak Street Parking Garage (Spectrum job 24-021)');
      expect(text).toContain('118 lines, revised estimate 987,654,321.00');
      // Negative amounts stand out in HTML.
      expect(html).toMatch(/color:#b42318;">-12\.05</);
    });

    it('speaks of one budget in the singular', () => {
      const model = dailySummary();
      model.submissions = [submission({ lineCount: 1 })];
      const { text } = render('daily-summary', model);
      expect(text).toContain('1 budget awaits your acceptance');
      expect(text).toContain('1 line, revised estimate');
    });
  });

  describe('escaping', () => {
    it('escapes a hostile reason in HTML and keeps it verbatim in text', () => {
      const { html, text } = render('rejected', rejected());
      expect(html).not.toContain('<script>');
      expect(html).toContain(
        'Phase 03-300 &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; is double-counted &amp; the L cost type should be &quot;M&quot;.<br>\nPlease re-check 05-120 too.',
      );
      expect(text).toContain(HOSTILE_REASON);
    });

    it('escapes every user value in HTML, not only the reason', () => {
      const model = rejected('ok');
      model.submission.projectName = 'A&B <Tower>';
      model.rejectedBy = { name: '"Dana" <img src=x onerror=alert(1)>', email: 'dana@x.example' };
      const { subject, html, text } = render('rejected', model);
      expect(html).not.toMatch(/<img|<Tower>/);
      expect(html).toContain('A&amp;B &lt;Tower&gt;');
      expect(html).toContain('&quot;Dana&quot; &lt;img src&#x3D;x onerror&#x3D;alert(1)&gt;');
      expect(text).toContain('A&B <Tower>');
      expect(subject).toBe('Budget rejected: A&B <Tower> (24-017)');
    });

    it('keeps subjects on one line whatever the data holds', () => {
      const model = rejected();
      model.submission.projectName = 'Evil\r\nBcc: victim@example.com\n';
      expect(render('rejected', model).subject).toBe('Budget rejected: Evil Bcc: victim@example.com (24-017)');
    });

    it('encodes ids in links', () => {
      const model = rejected();
      model.submission.id = 'a/b?c';
      expect(render('rejected', model).text).toContain(`${PUBLIC_URL}/console/budgets/a%2Fb%3Fc`);
    });
  });

  describe('strict mode', () => {
    it('throws on a missing field instead of rendering a blank', () => {
      const model = rejected() as Partial<ReturnType<typeof rejected>>;
      delete model.reason;
      expect(() => render('rejected', model as never)).toThrow(TemplateRenderError);
      expect(() => render('rejected', model as never)).toThrow(/\{\{multiline\}\} needs a string, got undefined/);
    });

    it('throws on a missing nested field', () => {
      const model = dailySummary();
      delete (model.submissions[1] as Partial<typeof model.submissions[1]>).projectName;
      expect(() => render('daily-summary', model)).toThrow(/"projectName" not defined/);
    });

    it('throws on a missing list rather than showing none', () => {
      const model = failedToExport() as Partial<ReturnType<typeof failedToExport>>;
      delete model.errors;
      expect(() => render('failed-to-export', model as never)).toThrow(TemplateRenderError);
    });

    it('names an undefined value by its path', () => {
      const model = outOfSync();
      (model.variances[2] as { spectrumEstimated: unknown }).spectrumEstimated = undefined;
      expect(() => render('out-of-sync', model)).toThrow('model.variances[2].spectrumEstimated is undefined');
    });

    it('refuses money that is not bigint cents and dates that are not Dates', () => {
      const money = rejected();
      (money.submission as { revisedEstimate: unknown }).revisedEstimate = 1234.5;
      expect(() => render('rejected', money)).toThrow('{{money}} needs bigint cents, got number (revisedEstimate)');
      const date = rejected();
      (date as { rejectedAt: unknown }).rejectedAt = '2025-03-11';
      expect(() => render('rejected', date)).toThrow(/\{\{date\}\} needs a valid Date, got string/);
    });
  });

  describe('other emails', () => {
    it('rejected: who, when, why and what next', () => {
      const { subject, text, html } = render('rejected', rejected());
      expect(subject).toBe('Budget rejected: Riverside Medical Office Building (24-017)');
      expect(text).toContain('Dana Ruiz rejected the budget of Riverside Medical Office Building (Spectrum job 24-017).');
      expect(text).toContain('Rejected at:       Tue, Mar 11, 2025, 10:30 AM CDT');
      expect(text).toContain('Fix the budget in Procore');
      expect(text).toContain('Send it to ERP again');
      expect(html).toContain(`href="${PUBLIC_URL}/console/budgets/1042"`);
    });

    it('re-sent: the previous rejection, its reason and the totals', () => {
      const { subject, text, html } = render('re-sent', reSent());
      expect(subject).toBe('Budget sent again for acceptance: Riverside Medical Office Building (24-017)');
      expect(text).toContain('was sent to ERP again by Pat Lee after it was rejected');
      expect(text).toContain('Original budget:   1,200,000.00');
      expect(text).toContain('Budget changes:    34,567.89');
      expect(text).toContain('Rejected by:       Dana Ruiz');
      expect(text).toContain(HOSTILE_REASON);
      expect(html).toContain('&lt;script&gt;');
      expect(html).toContain(`${PUBLIC_URL}/console/budgets/1051`);
    });

    it('re-sent after a retrieval has no reason section', () => {
      const model = reSent();
      model.previous = { status: 'retrieved', at: new Date('2025-03-11T15:30:00Z'), by: null, reason: null };
      model.submission.sender = null;
      const { text } = render('re-sent', model);
      expect(text).toContain('was sent to ERP again by a Procore poll after it was retrieved by its sender');
      expect(text).toContain('Retrieved by:      unknown');
      expect(text).not.toContain('Why it was rejected');
    });

    it('failed-to-export: every row error with its code and column', () => {
      const { subject, text, html } = render('failed-to-export', failedToExport());
      expect(subject).toBe('Budget failed to export to Spectrum: Riverside Medical Office Building (24-017)');
      expect(text).toContain('ended with 2 errors. 13 of 15 rows were written');
      expect(text).toContain('- 24-017 / 03-300 / L  [code I]  column Cost_Type\n  Invalid Cost Type');
      expect(text).toContain('- 24-017 / 09-900 / M  [code M]\n  Phase <09-900> & more missing');
      expect(html).toContain('Phase &lt;09-900&gt; &amp; more missing');
      expect(text).toMatch(/retry the export/);
      expect(text).toMatch(/reject it with a reason/);
    });

    it('greets a recipient without a name', () => {
      const model = failedToExport();
      model.recipient = { name: null };
      const { html, text } = render('failed-to-export', model);
      expect(text).toContain('\nHello,\n');
      expect(html).toContain('>Hello,</p>');
    });

    it('refuses an unknown variance status', () => {
      const model = outOfSync();
      (model.variances[0] as { status: string }).status = 'amount-differs';
      expect(() => render('out-of-sync', model)).toThrow(/unknown status: amount-differs/);
    });

    it('failed-to-export without row errors says so', () => {
      const model = failedToExport();
      model.errors = [];
      expect(render('failed-to-export', model).text).toContain('No row-level error was recorded');
    });

    it('out-of-sync: every variance, the explanation and the report link', () => {
      const { subject, text, html } = render('out-of-sync', outOfSync());
      expect(subject).toBe('Budget out of sync with Spectrum: Riverside Medical Office Building (24-017)');
      expect(text).toContain(
        'Amount differs: Procore revised 12,000.00, Spectrum estimated 10,000.00, variance -2,000.00',
      );
      expect(text).toContain('Missing in Spectrum: Procore revised 45,500.25, Spectrum estimated —, variance -45,500.25');
      expect(text).toContain('Not in the budget: Procore revised —, Spectrum estimated 250.00, variance +250.00');
      expect(text).toContain('Totals: Procore revised 57,500.25, Spectrum estimated 10,250.00, variance -47,250.25');
      expect(text).toContain("the Job Cost option 'Current Estimate display only' may be on");
      expect(html).toContain('the Job Cost option &#x27;Current Estimate display only&#x27; may be on');
      expect(text).toContain(`${PUBLIC_URL}/console/budgets/1042/reconciliation.html`);
      expect(html).toContain(`href="${PUBLIC_URL}/console/budgets/1042/reconciliation.html"`);
    });
  });

  describe('start-time checks', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'templates-'));
      cpSync(TEMPLATES, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const build = () => new TemplateRenderer({ publicUrl: PUBLIC_URL, timeZone: TIME_ZONE, templatesDir: dir });

    it('loads a good copy', () => {
      expect(build).not.toThrow();
    });

    it('stops on a syntax error, naming the file', () => {
      writeFileSync(join(dir, 'rejected', 'text.hbs'), 'Hello {{recipient.name}');
      expect(build).toThrow(/rejected\/text\.hbs/);
    });

    it('stops on a missing template', () => {
      rmSync(join(dir, 'out-of-sync', 'subject.hbs'));
      expect(build).toThrow(/email template missing: .*out-of-sync\/subject\.hbs/);
    });

    it('stops on an unknown partial or helper', () => {
      writeFileSync(join(dir, 'rejected', 'html.hbs'), '{{> no-such-partial}}');
      expect(build).toThrow(/unknown partial "no-such-partial"/);
      writeFileSync(join(dir, 'rejected', 'html.hbs'), '{{shout reason}}');
      expect(build).toThrow(/unknown helper "shout"/);
    });

    it('stops on unescaped output in an HTML template', () => {
      writeFileSync(join(dir, 'rejected', 'html.hbs'), '<p>{{{reason}}}</p>');
      expect(build).toThrow(/unescaped output/);
    });

    it('makes #each and #if throw on a missing value instead of rendering nothing', () => {
      writeFileSync(join(dir, 'rejected', 'html.hbs'), '{{#each attachments}}{{name}}{{/each}}');
      expect(() => build().render('rejected', rejected())).toThrow('{{#each}} got a missing value (attachments)');
      writeFileSync(join(dir, 'rejected', 'html.hbs'), '{{#if submission.urgent}}!{{/if}}');
      expect(() => build().render('rejected', rejected())).toThrow('{{#if}} got a missing value (submission.urgent)');
    });

    it('stops on an unknown time zone', () => {
      expect(() => new TemplateRenderer({ publicUrl: PUBLIC_URL, timeZone: 'Atlantis/Capital' })).toThrow(RangeError);
    });
  });
});

describe('displayMoney', () => {
  it.each([
    [0n, '0.00'],
    [5n, '0.05'],
    [-5n, '-0.05'],
    [100n, '1.00'],
    [99999n, '999.99'],
    [100000n, '1,000.00'],
    [123456789n, '1,234,567.89'],
    [-100000000n, '-1,000,000.00'],
    [99999999999n, '999,999,999.99'],
    [123456789012345678901n, '1,234,567,890,123,456,789.01'],
  ])('%p cents reads %s', (cents, expected) => {
    expect(displayMoney(cents)).toBe(expected);
  });
});

describe('displayDate', () => {
  it('shows the instant in the given zone with its abbreviation, DST included', () => {
    expect(displayDate(new Date('2025-01-15T13:00:00Z'), 'America/Chicago')).toBe('Wed, Jan 15, 2025, 7:00 AM CST');
    expect(displayDate(new Date('2025-07-15T12:00:00Z'), 'America/Chicago')).toBe('Tue, Jul 15, 2025, 7:00 AM CDT');
    expect(displayDate(new Date('2025-07-15T12:00:00Z'), 'UTC')).toBe('Tue, Jul 15, 2025, 12:00 PM UTC');
  });
});
