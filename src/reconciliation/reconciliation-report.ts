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
  const e = escapeHtml;
  const amount = (value: string | null) => (value === null ? '<span class="none">—</span>' : e(value));
  const rows = report.rows
    .map(
      (row) =>
        `<tr class="${e(row.status)}"><td>${e(row.job)}</td><td>${e(row.phase)}</td><td>${e(row.costType)}</td>` +
        `<td>${e(row.description)}</td><td class="num">${amount(row.procoreRevised)}</td>` +
        `<td class="num">${amount(row.spectrumEstimated)}</td><td class="num">${e(row.variance)}</td>` +
        `<td>${e(STATUS_LABELS[row.status] ?? row.status)}${row.note ? `<br><small>${e(row.note)}</small>` : ''}</td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Reconciliation report: ${e(report.projectName)} (budget ${e(report.submissionId)})</title>
<style>
  body { font: 12px/1.4 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #111; margin: 24px; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  .outcome { display: inline-block; padding: 2px 8px; border-radius: 3px; font-weight: 600; }
  .outcome.synced { background: #e3f4e6; color: #14532d; }
  .outcome.out_of_sync { background: #fde8e8; color: #7f1d1d; }
  .outcome.awaiting_import { background: #fdf6e3; color: #713f12; }
  dl { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 12px 0; }
  dt { color: #555; } dd { margin: 0; }
  p.explanation { max-width: 60em; }
  table { border-collapse: collapse; width: 100%; margin-top: 12px; }
  th, td { border-bottom: 1px solid #ccc; padding: 3px 6px; text-align: left; vertical-align: top; }
  th { background: #f2f2f2; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
  tr.amount_differs td, tr.missing_in_spectrum td, tr.not_in_budget td { background: #fff4f4; }
  tfoot td { font-weight: 600; border-top: 2px solid #111; }
  .none { color: #999; }
  @media print { body { margin: 0; } th { background: none; } tr { page-break-inside: avoid; } }
</style>
</head>
<body>
<h1>Reconciliation report: ${e(report.projectName)}</h1>
<span class="outcome ${e(report.outcome)}">${e(OUTCOME_LABELS[report.outcome] ?? report.outcome)}</span>
<dl>
  <dt>Budget submission</dt><dd>${e(report.submissionId)} (now ${e(report.submissionStatus.replace(/_/g, ' '))})</dd>
  <dt>Spectrum company</dt><dd>${e(report.spectrumCompany)}</dd>
  <dt>Job</dt><dd>${e(report.job)}</dd>
  <dt>Checked at</dt><dd>${e(report.ranAt)}</dd>
  <dt>Tolerance</dt><dd>${e(report.tolerance)}</dd>
  <dt>Rows not matching</dt><dd>${e(String(report.varianceCount))}</dd>
</dl>
<p class="explanation">${e(report.explanation)}</p>
<table>
<thead><tr><th>Job</th><th>Phase</th><th>Cost type</th><th>Description</th><th class="num">Procore revised</th><th class="num">Spectrum estimated</th><th class="num">Variance</th><th>Status</th></tr></thead>
<tbody>
${rows}
</tbody>
<tfoot><tr><td colspan="4">Total</td><td class="num">${e(report.totals.procoreRevised)}</td><td class="num">${e(report.totals.spectrumEstimated)}</td><td class="num">${e(report.totals.variance)}</td><td></td></tr></tfoot>
</table>
</body>
</html>
`;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' })[c]!);
}
