import { absCents, Cents, formatMoney } from '../common/money';
import type { SpectrumRow } from '../budgets/submission-row.entity';
import { describeRow } from '../spectrum/export-plan';
import { SpectrumPhase } from '../spectrum/client/spectrum-records';
import { SpectrumRowIndex } from '../spectrum/spectrum-row-index';
import { ReconciliationRowResult, VarianceStatus } from '../budgets/reconciliation.entity';

/**
 * The Job Cost Report check as a pure function: the budget's rows against Spectrum's rows of the
 * same jobs, matched by job / phase / cost type (a phase Spectrum stored in its mask-filled form is
 * recognised, see SpectrumRowIndex), Spectrum's current estimate ("Estimated Cost") against the
 * exported revised estimate, within a tolerance. A side that is missing counts as 0.00, so a budget
 * row at 0.00 that Spectrum lacks, or a Spectrum row at 0.00 the budget lacks, matches. A removed
 * row (one an earlier export wrote and this version lacks) is expected at 0.00.
 *
 * What cannot be compared is reported, never guessed: two budget rows on one Spectrum row
 * (`duplicate_in_budget`), Spectrum answering two records for one row (`duplicate_in_spectrum`),
 * and a Spectrum record whose estimate is missing or not an amount (`unreadable`: a variance when it
 * is a budget row's; flagged but left out of the comparison when it is another row of the job).
 */

export interface Comparison {
  outcome: 'synced' | 'out_of_sync';
  rows: ReconciliationRowResult[];
  procoreRevisedTotal: Cents;
  spectrumEstimatedTotal: Cents;
  varianceCount: number;
  counts: Record<VarianceStatus, number>;
  /** Spectrum records of the jobs that are not the budget's and could not be read (flagged only). */
  unreadableElsewhere: number;
  /** Budget rows with a non-zero estimate that Spectrum shows as exported (evidence of an import). */
  importedRows: number;
  /** Rows with a non-zero estimate: the denominator of `importedRows`. */
  nonZeroRows: number;
  displayOnlySuspected: boolean;
  explanation: string;
}

export interface ComparisonInput {
  /** The submission's rows (job, phase and cost type set), removed rows included. */
  rows: SpectrumRow[];
  /** Every row GetPhase returned for the submission's jobs (complete reads only). */
  spectrum: SpectrumPhase[];
  tolerance: Cents;
}

const VARIANCES: readonly VarianceStatus[] = [
  'amount_differs',
  'missing_in_spectrum',
  'not_in_budget',
  'duplicate_in_budget',
  'duplicate_in_spectrum',
  'unreadable',
];

export function compareWithSpectrum(input: ComparisonInput): Comparison {
  const { tolerance } = input;
  const index = new SpectrumRowIndex(input.spectrum);
  const ordered = [...input.rows].sort((a, b) => a.position - b.position);
  const located = ordered.map((row) => index.locate(row.job, row.phase, row.costType));
  const liveByKey = new Map<string, SpectrumRow[]>();
  ordered.forEach((row, i) => {
    if (row.removed) return;
    const list = liveByKey.get(located[i].key);
    if (list) list.push(row);
    else liveByKey.set(located[i].key, [row]);
  });

  const rows: ReconciliationRowResult[] = [];
  const counts = Object.fromEntries(
    ['matched', ...VARIANCES].map((status) => [status, 0]),
  ) as Record<VarianceStatus, number>;
  const seen = new Set<string>();
  let varianceCount = 0;
  const elsewhere: SpectrumPhase[] = [];
  let procoreTotal = 0n;
  let spectrumTotal = 0n;
  let importedRows = 0;
  let nonZeroRows = 0;
  const differing: SpectrumRow[] = [];
  const showsOriginal: SpectrumRow[] = [];
  let matchedUpdates = 0;
  const compared: SpectrumRow[] = [];

  const addSpectrum = (key: string, records: SpectrumPhase[]) => {
    if (seen.has(key)) return;
    seen.add(key);
    for (const record of records) spectrumTotal += record.currentEstimateDollars ?? 0n;
  };

  for (const [i, row] of ordered.entries()) {
    const { key, resolved: stored } = located[i];
    // A removed row whose Spectrum row a row of this version sets: that row is compared instead.
    if (row.removed && liveByKey.has(key)) continue;
    compared.push(row);
    const records = index.atKey(key);
    addSpectrum(key, records);
    procoreTotal += row.revisedEstimate;
    const notes: string[] = [];
    if (stored.filled && stored.code) notes.push(`Spectrum stores phase ${row.phase.trim()} as ${stored.code} (filled to the job's phase mask)`);
    if (row.removed) notes.push(`not in this version of the budget: set to 0.00 (an earlier export wrote ${row.removedEstimate === null ? 'it' : formatMoney(row.removedEstimate)})`);

    let status: VarianceStatus;
    let estimated: Cents | null = null;
    const duplicates = liveByKey.get(key) ?? [];
    if (!row.removed && duplicates.length > 1) {
      status = 'duplicate_in_budget';
      notes.push(`${duplicates.filter((other) => other !== row).map(describeRow).join(', ')} map to the same Spectrum row`);
      if (records.length === 1) estimated = records[0].currentEstimateDollars;
    } else if (records.length > 1) {
      status = 'duplicate_in_spectrum';
      notes.push(`Spectrum returned ${records.length} records for this row`);
    } else if (records.length === 1 && records[0].currentEstimateDollars === null) {
      status = 'unreadable';
      notes.push(`Spectrum's record could not be read: ${(records[0].problems ?? []).join('; ')}`);
    } else {
      const spectrum = records[0];
      estimated = spectrum ? spectrum.currentEstimateDollars : null;
      const variance = (estimated ?? 0n) - row.revisedEstimate;
      const within = absCents(variance) <= tolerance;
      status = within ? 'matched' : spectrum ? 'amount_differs' : 'missing_in_spectrum';
      if (row.revisedEstimate !== 0n) {
        nonZeroRows++;
        if (spectrum && within) importedRows++;
      }
      if (status === 'matched' && row.spectrumAction === 'update') matchedUpdates++;
      if (status === 'amount_differs') {
        differing.push(row);
        if (row.originalBudget !== row.revisedEstimate && estimated === row.originalBudget) showsOriginal.push(row);
      }
    }
    counts[status]++;
    if (status !== 'matched') varianceCount++;
    rows.push({
      job: row.job,
      phase: row.phase,
      costType: row.costType,
      description: row.description,
      procoreRevised: formatMoney(row.revisedEstimate),
      spectrumEstimated: estimated === null ? null : formatMoney(estimated),
      variance: formatMoney((estimated ?? 0n) - row.revisedEstimate),
      status,
      ...(row.removed ? { removed: true } : {}),
      ...(notes.length ? { note: notes.join('; ') } : {}),
    });
  }

  // Spectrum rows of the same jobs that the budget lacks; those at 0.00 carry nothing and are left
  // out; those that cannot be read are flagged but left out of the comparison.
  for (const [key, records] of index.entries()) {
    if (seen.has(key)) continue;
    addSpectrum(key, records);
    for (const record of records) {
      const estimated = record.currentEstimateDollars;
      if (estimated === null) {
        elsewhere.push(record);
        rows.push(unreadableRow(record));
        continue;
      }
      if (estimated === 0n) continue;
      const status: VarianceStatus = absCents(estimated) <= tolerance ? 'matched' : 'not_in_budget';
      counts[status]++;
      if (status !== 'matched') varianceCount++;
      rows.push({
        job: record.jobNumber,
        phase: record.phaseCode,
        costType: record.costType,
        description: record.description,
        procoreRevised: null,
        spectrumEstimated: formatMoney(estimated),
        variance: formatMoney(estimated),
        status,
      });
    }
  }
  for (const record of index.keyless) {
    elsewhere.push(record);
    rows.push(unreadableRow(record));
  }

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
    unreadableElsewhere: elsewhere.length,
    importedRows,
    nonZeroRows,
    displayOnlySuspected,
  };
  return { ...comparison, explanation: explain(comparison, input, compared, elsewhere) };
}

function unreadableRow(record: SpectrumPhase): ReconciliationRowResult {
  return {
    job: record.jobNumber,
    phase: record.phaseCode,
    costType: record.costType,
    description: record.description,
    procoreRevised: null,
    spectrumEstimated: null,
    variance: '0.00',
    status: 'unreadable',
    note: `not in this budget; Spectrum's record could not be read and was left out of the comparison: ${(record.problems ?? []).join('; ')}`,
  };
}

function explain(c: Omit<Comparison, 'explanation'>, input: ComparisonInput, compared: SpectrumRow[], unreadable: SpectrumPhase[]): string {
  const jobs = [...new Set(input.rows.map((row) => row.job))].join(', ') || 'of this budget';
  const tolerance = input.tolerance > 0n ? ` (within the tolerance of ${formatMoney(input.tolerance)})` : '';
  const removed = compared.filter((row) => row.removed).length;
  const elsewhere = c.unreadableElsewhere
    ? ` ${plural(c.unreadableElsewhere, 'other Spectrum record', 'other Spectrum records')} of job ${jobs} could not be read (${describeProblem(unreadable[0])}) and ${c.unreadableElsewhere === 1 ? 'was' : 'were'} left out of the comparison.`
    : '';
  const difference = c.spectrumEstimatedTotal - c.procoreRevisedTotal;
  if (c.outcome === 'synced') {
    const totals =
      difference === 0n
        ? `the totals agree: ${formatMoney(c.procoreRevisedTotal)} in the budget, ${formatMoney(c.spectrumEstimatedTotal)} in Spectrum`
        : `the totals differ by ${formatMoney(difference)} (every row within the tolerance): ${formatMoney(c.procoreRevisedTotal)} in the budget, ${formatMoney(c.spectrumEstimatedTotal)} in Spectrum`;
    const removedNote = removed ? `, including ${plural(removed, 'removed row', 'removed rows')} at 0.00` : '';
    return `Spectrum shows the exported revised estimate for all ${compared.length} row(s) of job ${jobs}${removedNote}${tolerance}; ${totals}.${elsewhere}`;
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
  if (c.counts.duplicate_in_budget) {
    sentences.push(
      `${plural(c.counts.duplicate_in_budget, 'budget row shares', 'budget rows share')} one Spectrum row with another budget row (codes that differ only in case, or in the fill Spectrum adds to a phase): Spectrum holds one estimate per job, phase and cost type, so they can never all match; fix the mapping and send the budget again.`,
    );
  }
  if (c.counts.duplicate_in_spectrum) {
    sentences.push(
      `Spectrum returned more than one record for ${plural(c.counts.duplicate_in_spectrum, 'budget row', 'budget rows')}: the connector cannot tell which holds the estimate; have Spectrum's data checked.`,
    );
  }
  if (c.counts.unreadable) {
    sentences.push(
      `Spectrum's record of ${plural(c.counts.unreadable, 'budget row', 'budget rows')} could not be read (an estimate that is missing or not an amount): it is not taken as 0.00.`,
    );
  }
  if (c.counts.not_in_budget) {
    sentences.push(
      `${plural(c.counts.not_in_budget, 'Spectrum row of job', 'Spectrum rows of job')} ${jobs} ${c.counts.not_in_budget === 1 ? 'carries' : 'carry'} an estimate but ${c.counts.not_in_budget === 1 ? 'is' : 'are'} not in this budget: added in Spectrum, or left from an earlier budget.`,
    );
  }
  const headline = `Spectrum does not match the exported budget on ${plural(c.varianceCount, 'row', 'rows')}${tolerance}.`;
  // The likely cause leads when there is one; the count follows it.
  if (c.displayOnlySuspected) sentences.splice(1, 0, headline);
  else sentences.unshift(headline);
  return (
    sentences.join(' ') +
    elsewhere +
    ` Totals: ${formatMoney(c.procoreRevisedTotal)} in the budget, ${formatMoney(c.spectrumEstimatedTotal)} in Spectrum (difference ${formatMoney(difference)}).` +
    ' Retry the export, reject the budget, or have an admin acknowledge the variance.'
  );
}

function describeProblem(record: SpectrumPhase | undefined): string {
  return record ? `${record.phaseCode || '?'}/${record.costType || '?'}: ${(record.problems ?? ['unreadable'])[0]}` : 'unreadable records';
}

function plural(count: number, one: string, many: string): string {
  return `${count} ${count === 1 ? one : many}`;
}

