import { absCents, Cents, formatMoney } from '../common/money';
import { ExportRow, normalizeCode, rowKey } from '../spectrum/export-plan';
import { SpectrumPhase } from '../spectrum/spectrum-records';
import { ReconciliationRowResult, VarianceStatus } from './reconciliation.entity';

/**
 * The Job Cost Report check as a pure function: the budget's rows against Spectrum's rows of the
 * same jobs, matched by job / phase / cost type, Spectrum's current estimate ("Estimated Cost")
 * against the exported revised estimate, within a tolerance. A side that is missing counts as 0.00,
 * so a budget row at 0.00 that Spectrum lacks, or a Spectrum row at 0.00 the budget lacks, matches.
 */

export interface Comparison {
  outcome: 'synced' | 'out_of_sync';
  rows: ReconciliationRowResult[];
  procoreRevisedTotal: Cents;
  spectrumEstimatedTotal: Cents;
  varianceCount: number;
  counts: Record<VarianceStatus, number>;
  /** Budget rows with a non-zero estimate that Spectrum shows as exported (evidence of an import). */
  importedRows: number;
  /** Rows with a non-zero estimate: the denominator of `importedRows`. */
  nonZeroRows: number;
  displayOnlySuspected: boolean;
  explanation: string;
}

export interface ComparisonInput {
  /** The submission's rows (job, phase and cost type set). */
  rows: ExportRow[];
  /** Every row GetPhase returned for the submission's jobs (complete reads only). */
  spectrum: SpectrumPhase[];
  tolerance: Cents;
}

export function compareWithSpectrum(input: ComparisonInput): Comparison {
  const { tolerance } = input;
  const spectrumByKey = new Map<string, SpectrumPhase>();
  for (const phase of input.spectrum) spectrumByKey.set(rowKey(phase.jobNumber, phase.phaseCode, phase.costType), phase);

  const rows: ReconciliationRowResult[] = [];
  const counts: Record<VarianceStatus, number> = { matched: 0, amount_differs: 0, missing_in_spectrum: 0, not_in_budget: 0 };
  const seen = new Set<string>();
  let procoreTotal = 0n;
  let spectrumTotal = 0n;
  let importedRows = 0;
  let nonZeroRows = 0;
  const differing: ExportRow[] = [];
  const showsOriginal: ExportRow[] = [];
  let matchedUpdates = 0;

  for (const row of [...input.rows].sort((a, b) => a.position - b.position)) {
    const key = rowKey(row.job, row.phase, row.costType);
    seen.add(key);
    const spectrum = spectrumByKey.get(key);
    const estimated = spectrum?.currentEstimateDollars ?? 0n;
    const variance = estimated - row.revisedEstimate;
    const within = absCents(variance) <= tolerance;
    const status: VarianceStatus = within ? 'matched' : spectrum ? 'amount_differs' : 'missing_in_spectrum';
    counts[status]++;
    procoreTotal += row.revisedEstimate;
    spectrumTotal += estimated;
    if (row.revisedEstimate !== 0n) {
      nonZeroRows++;
      if (spectrum && within) importedRows++;
    }
    if (status === 'matched' && row.spectrumAction === 'update') matchedUpdates++;
    if (status === 'amount_differs') {
      differing.push(row);
      if (row.originalBudget !== row.revisedEstimate && estimated === row.originalBudget) showsOriginal.push(row);
    }
    rows.push({
      job: row.job,
      phase: row.phase,
      costType: row.costType,
      description: row.description,
      procoreRevised: formatMoney(row.revisedEstimate),
      spectrumEstimated: spectrum ? formatMoney(estimated) : null,
      variance: formatMoney(variance),
      status,
    });
  }

  // Spectrum rows of the same jobs that the budget lacks; those at 0.00 carry nothing and are left out.
  const extra = input.spectrum
    .filter((phase) => !seen.has(rowKey(phase.jobNumber, phase.phaseCode, phase.costType)) && phase.currentEstimateDollars !== 0n)
    .sort((a, b) => compareCodes(a, b));
  for (const phase of extra) {
    const estimated = phase.currentEstimateDollars;
    const status: VarianceStatus = absCents(estimated) <= tolerance ? 'matched' : 'not_in_budget';
    counts[status]++;
    spectrumTotal += estimated;
    rows.push({
      job: phase.jobNumber,
      phase: phase.phaseCode,
      costType: phase.costType,
      description: phase.description,
      procoreRevised: null,
      spectrumEstimated: formatMoney(estimated),
      variance: formatMoney(estimated),
      status,
    });
  }

  const varianceCount = counts.amount_differs + counts.missing_in_spectrum + counts.not_in_budget;
  // "Current Estimate display only?": AddPhase succeeded but Spectrum kept its current estimates.
  // New rows then show the original estimate (blank current values take the original); rows that
  // existed show their earlier value. Suspected when every differing row fits, and the pattern is
  // positive (a row shows its original) or no row that existed before took the new value.
  const displayOnlySuspected =
    differing.length > 0 &&
    differing.every((row) => showsOriginal.includes(row) || row.spectrumAction === 'update') &&
    (showsOriginal.length > 0 || matchedUpdates === 0);

  const comparison: Omit<Comparison, 'explanation'> = {
    outcome: varianceCount === 0 ? 'synced' : 'out_of_sync',
    rows,
    procoreRevisedTotal: procoreTotal,
    spectrumEstimatedTotal: spectrumTotal,
    varianceCount,
    counts,
    importedRows,
    nonZeroRows,
    displayOnlySuspected,
  };
  return { ...comparison, explanation: explain(comparison, input) };
}

function explain(c: Omit<Comparison, 'explanation'>, input: ComparisonInput): string {
  const jobs = [...new Set(input.rows.map((row) => row.job))].join(', ') || 'of this budget';
  const tolerance = input.tolerance > 0n ? ` (within the tolerance of ${formatMoney(input.tolerance)})` : '';
  const budgetRows = input.rows.length;
  if (c.outcome === 'synced') {
    return `Spectrum shows the exported revised estimate for all ${budgetRows} row(s) of job ${jobs}${tolerance}; the totals agree: ${formatMoney(c.procoreRevisedTotal)} in the budget, ${formatMoney(c.spectrumEstimatedTotal)} in Spectrum.`;
  }
  const sentences: string[] = [];
  if (c.displayOnlySuspected) {
    sentences.push(
      "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on.",
      `Spectrum accepted every row, yet ${plural(c.counts.amount_differs, 'row still shows', 'rows still show')} Spectrum's earlier value or the original estimate instead of the revised estimate.`,
      "Ask the Spectrum administrator to untick 'Current Estimate display only?' in Job Cost Installation, then retry the export.",
    );
  } else if (c.counts.amount_differs) {
    sentences.push(
      `${plural(c.counts.amount_differs, 'row shows', 'rows show')} a different estimate in Spectrum than the revised estimate exported: the amount may have been changed in Spectrum after the export. If Spectrum shows its earlier values, the Job Cost option 'Current Estimate display only' may be on.`,
    );
  }
  if (c.counts.missing_in_spectrum) {
    sentences.push(
      `${plural(c.counts.missing_in_spectrum, 'budget row is', 'budget rows are')} missing in Spectrum: not created, deleted since, or not imported.`,
    );
  }
  if (c.counts.not_in_budget) {
    sentences.push(
      `${plural(c.counts.not_in_budget, 'Spectrum row of job', 'Spectrum rows of job')} ${jobs} ${c.counts.not_in_budget === 1 ? 'carries' : 'carry'} an estimate but ${c.counts.not_in_budget === 1 ? 'is' : 'are'} not in this budget: added in Spectrum, or left from an earlier budget.`,
    );
  }
  const variance = c.spectrumEstimatedTotal - c.procoreRevisedTotal;
  const headline = `Spectrum does not match the exported budget on ${plural(c.varianceCount, 'row', 'rows')}${tolerance}.`;
  // The likely cause leads when there is one; the count follows it.
  if (c.displayOnlySuspected) sentences.splice(1, 0, headline);
  else sentences.unshift(headline);
  return (
    sentences.join(' ') +
    ` Totals: ${formatMoney(c.procoreRevisedTotal)} in the budget, ${formatMoney(c.spectrumEstimatedTotal)} in Spectrum (difference ${formatMoney(variance)}).` +
    ' Retry the export, reject the budget, or have an admin acknowledge the variance.'
  );
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

function compareCodes(a: SpectrumPhase, b: SpectrumPhase): number {
  return (
    normalizeCode(a.jobNumber).localeCompare(normalizeCode(b.jobNumber)) ||
    normalizeCode(a.phaseCode).localeCompare(normalizeCode(b.phaseCode)) ||
    normalizeCode(a.costType).localeCompare(normalizeCode(b.costType))
  );
}
