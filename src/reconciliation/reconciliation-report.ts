import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { formatMoney } from '../common/money';
import { Reconciliation, ReconciliationRowResult, VarianceStatus } from '../budgets/reconciliation.entity';

/** The reconciliation report as JSON, CSV and a printable HTML page. */

export interface ReportSubject {
  id: string;
  projectName: string;
  status: string;
}

export interface ReconciliationReport {
  id: string;
  submissionId: string;
  projectName: string;
  submissionStatus: string;
  ranAt: string;
  outcome: Reconciliation['outcome'];
  spectrumCompany: string;
  job: string;
  tolerance: string;
  explanation: string;
  varianceCount: number;
  totals: { procoreRevised: string; spectrumEstimated: string; variance: string };
  rows: ReconciliationRowResult[];
}

export function presentReport(report: Reconciliation, submission: ReportSubject): ReconciliationReport {
  return {
    id: report.id,
    submissionId: submission.id,
    projectName: submission.projectName,
    submissionStatus: submission.status,
    ranAt: report.ranAt.toISOString(),
    outcome: report.outcome,
    spectrumCompany: report.companyCode,
    job: report.job,
    tolerance: formatMoney(report.tolerance),
    explanation: report.explanation,
    varianceCount: report.varianceCount,
    totals: {
      procoreRevised: formatMoney(report.procoreRevisedTotal),
      spectrumEstimated: formatMoney(report.spectrumEstimatedTotal),
      variance: formatMoney(report.spectrumEstimatedTotal - report.procoreRevisedTotal),
    },
    rows: report.rows.map((row) => ({ ...row, description: row.description ?? '' })),
  };
}

const CSV_COLUMNS = ['job', 'phase', 'costType', 'description', 'procoreRevised', 'spectrumEstimated', 'variance', 'status', 'note'] as const;

/**
 * RFC 4180 CSV: a header row, one row per job / phase / cost type, a TOTAL row. Fields holding a
 * comma, a quote or a line break are quoted; text that a spreadsheet would run as a formula
 * (=, +, -, @ first) is prefixed with an apostrophe. Amounts are plain decimals.
 */
export function reportToCsv(report: ReconciliationReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of report.rows) {
    lines.push(
      [
        text(row.job),
        text(row.phase),
        text(row.costType),
        text(row.description),
        row.procoreRevised ?? '',
        row.spectrumEstimated ?? '',
        row.variance,
        row.status,
        text(row.note ?? ''),
      ]
        .map(csvField)
        .join(','),
    );
  }
  lines.push(
    ['TOTAL', '', '', '', report.totals.procoreRevised, report.totals.spectrumEstimated, report.totals.variance, report.outcome, '']
      .map(csvField)
      .join(','),
  );
  return lines.join('\r\n') + '\r\n';
}

export function text(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const STATUS_LABELS: Record<VarianceStatus, string> = {
  matched: 'Matches',
  amount_differs: 'Amount differs',
  missing_in_spectrum: 'Missing in Spectrum',
  not_in_budget: 'Not in the budget',
  duplicate_in_budget: 'Two budget rows on one Spectrum row',
  duplicate_in_spectrum: 'Several records in Spectrum',
  unreadable: 'Could not be read',
};

const OUTCOME_LABELS: Record<Reconciliation['outcome'], string> = {
  synced: 'In sync',
  out_of_sync: 'Out of sync',
  awaiting_import: 'Awaiting import',
};

/** A self-contained page that prints on A4/Letter; every value is escaped. */
export function reportToHtml(report: ReconciliationReport): string {
  return REPORT_TEMPLATE({
    ...report,
    // Strict mode: optional fields become explicit.
    rows: report.rows.map((row) => ({ ...row, note: row.note ?? null })),
  });
}

function compileReportTemplate(file: string): Handlebars.TemplateDelegate {
  const env = Handlebars.create();
  const label = (labels: Record<string, string>) => (value: unknown) => (Object.hasOwn(labels, String(value)) ? labels[String(value)] : String(value));
  env.registerHelper({
    statusLabel: label(STATUS_LABELS),
    outcomeLabel: label(OUTCOME_LABELS),
    /** `out_of_sync` → `out of sync`. */
    words: (value: unknown) => String(value).replace(/_/g, ' '),
    isNull: (value: unknown) => value === null,
  });
  const template = env.compile(readFileSync(file, 'utf8'), { strict: true });
  // Handlebars compiles on first use; a render now surfaces a syntax error at start.
  template(SAMPLE);
  return template;
}

/** The smallest report, rendered once at load to compile the template. */
const SAMPLE: ReconciliationReport = {
  id: '0',
  submissionId: '0',
  projectName: '',
  submissionStatus: 'exported',
  ranAt: '',
  outcome: 'synced',
  spectrumCompany: '',
  job: '',
  tolerance: '0.00',
  explanation: '',
  varianceCount: 0,
  totals: { procoreRevised: '0.00', spectrumEstimated: '0.00', variance: '0.00' },
  rows: [{ job: '', phase: '', costType: '', description: '', procoreRevised: null, spectrumEstimated: '0.00', variance: '0.00', status: 'matched' }],
};

/**
 * The printable page: templates/report.html.hbs, compiled once when this module loads (so a
 * broken template stops the service at start). As with the emails, Handlebars escapes every value
 * and runs in strict mode (a missing value throws rather than rendering blank); the template has
 * no `{{{ }}}`, no script and only inline styles, which HTML_REPORT_CSP allows.
 */
const REPORT_TEMPLATE = compileReportTemplate(join(__dirname, 'templates', 'report.html.hbs'));
