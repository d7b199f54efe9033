import type { SpectrumRow } from '../budgets/submission-row.entity';
import { spectrumRow } from '../../test/support/rows';
import { SpectrumPhase } from '../spectrum/client/spectrum-records';
import { compareWithSpectrum } from './reconciliation-comparer';

let position = 0;
function budget(phase: string, costType: string, revised: bigint, options: Partial<SpectrumRow> = {}): SpectrumRow {
  position++;
  return spectrumRow({
    id: String(position),
    position,
    phase,
    costType,
    description: `Phase ${phase}`,
    originalBudget: revised,
    revisedEstimate: revised,
    exportState: 'written',
    spectrumAction: 'new_phase',
    ...options,
  });
}

function spectrum(phaseCode: string, costType: string, current: bigint): SpectrumPhase {
  return { jobNumber: '26-101', phaseCode, costType, description: 'Spectrum text', currentEstimateDollars: current } as SpectrumPhase;
}

describe('compareWithSpectrum', () => {
  it('all equal → synced', () => {
    const c = compareWithSpectrum({ rows: [budget('01100', 'L', 100_00n), budget('03300', 'M', -12_05n)], spectrum: [spectrum('01100', 'L', 100_00n), spectrum('03300', 'M', -12_05n)], tolerance: 0n });
    expect(c.outcome).toBe('synced');
    expect(c.varianceCount).toBe(0);
    expect(c.explanation).toBe('Spectrum shows the exported revised estimate for all 2 row(s) of job 26-101; the totals agree: 87.95 in the budget, 87.95 in Spectrum.');
  });

  it('a variance of one cent is out of sync at tolerance 0.00 and matched at 0.01', () => {
    const input = { rows: [budget('01100', 'L', 100_00n)], spectrum: [spectrum('01100', 'L', 100_01n)] };
    expect(compareWithSpectrum({ ...input, tolerance: 0n }).rows[0]).toMatchObject({ status: 'amount_differs', variance: '0.01' });
    const within = compareWithSpectrum({ ...input, tolerance: 1n });
    expect(within.outcome).toBe('synced');
    expect(within.rows[0]).toMatchObject({ status: 'matched', variance: '0.01' });
    expect(within.explanation).toContain('(within the tolerance of 0.01)');
  });

  it('rows at 0.00 match on either side; Spectrum rows at 0.00 the budget lacks are left out', () => {
    const c = compareWithSpectrum({
      rows: [budget('01100', 'L', 0n)],
      spectrum: [spectrum('09000', 'O', 0n)],
      tolerance: 0n,
    });
    expect(c.outcome).toBe('synced');
    expect(c.rows).toEqual([
      { job: '26-101', phase: '01100', costType: 'L', description: 'Phase 01100', procoreRevised: '0.00', spectrumEstimated: null, variance: '0.00', status: 'matched' },
    ]);
  });

  it('lists every variance with Spectrum minus Procore, missing sides as 0.00, budget rows first', () => {
    const c = compareWithSpectrum({
      rows: [budget('01100', 'L', 100_00n), budget('02000', 'M', 50_00n), budget('03000', 'S', 10_00n)],
      spectrum: [spectrum('09000', 'O', 75_00n), spectrum('01100', 'L', 90_00n), spectrum('03000', 'S', 10_00n), spectrum('08000', 'E', -5_00n)],
      tolerance: 0n,
    });
    expect(c.outcome).toBe('out_of_sync');
    expect(c.rows.map((r) => [r.phase, r.procoreRevised, r.spectrumEstimated, r.variance, r.status])).toEqual([
      ['01100', '100.00', '90.00', '-10.00', 'amount_differs'],
      ['02000', '50.00', null, '-50.00', 'missing_in_spectrum'],
      ['03000', '10.00', '10.00', '0.00', 'matched'],
      ['08000', null, '-5.00', '-5.00', 'not_in_budget'],
      ['09000', null, '75.00', '75.00', 'not_in_budget'],
    ]);
    expect(c.counts).toEqual({ matched: 1, amount_differs: 1, missing_in_spectrum: 1, not_in_budget: 2, duplicate_in_budget: 0, duplicate_in_spectrum: 0, unreadable: 0 });
    expect(c.varianceCount).toBe(4);
    expect([c.procoreRevisedTotal, c.spectrumEstimatedTotal]).toEqual([160_00n, 170_00n]);
    expect(c.displayOnlySuspected).toBe(false);
  });

  it('suspects "Current Estimate display only" when new rows show their original estimate and existing rows their old value', () => {
    const c = compareWithSpectrum({
      rows: [
        budget('01100', 'L', 125_00n, { originalBudget: 100_00n }),
        budget('03300', 'M', 120_00n, { originalBudget: 120_00n, spectrumAction: 'update' }),
        budget('05000', 'E', 30_00n),
      ],
      spectrum: [spectrum('01100', 'L', 100_00n), spectrum('03300', 'M', 95_00n), spectrum('05000', 'E', 30_00n)],
      tolerance: 0n,
    });
    expect(c.displayOnlySuspected).toBe(true);
    expect(c.explanation).toBe(
      "Spectrum kept its current estimates: the Job Cost option 'Current Estimate display only' may be on. " +
        'Spectrum does not match the exported budget on 2 rows. ' +
        "Spectrum accepted every row, yet 2 rows still show Spectrum's earlier value or the original estimate instead of the revised estimate. " +
        "Ask the Spectrum administrator to untick 'Current Estimate display only?' in Job Cost Installation, then retry the export. " +
        'Totals: 275.00 in the budget, 225.00 in Spectrum (difference -50.00). Retry the export, reject the budget, or have an admin acknowledge the variance.',
    );
  });

  it('does not suspect it when an existing row did take its new value', () => {
    const c = compareWithSpectrum({
      rows: [budget('03300', 'M', 120_00n, { spectrumAction: 'update' }), budget('04000', 'M', 80_00n, { spectrumAction: 'update' })],
      spectrum: [spectrum('03300', 'M', 95_00n), spectrum('04000', 'M', 80_00n)],
      tolerance: 0n,
    });
    expect(c.displayOnlySuspected).toBe(false);
    expect(c.explanation).toContain('1 row shows a different estimate in Spectrum than the revised estimate exported');
  });

  it('counts rows with a non-zero estimate that Spectrum shows (evidence a transfer file was imported)', () => {
    const c = compareWithSpectrum({ rows: [budget('01100', 'L', 100_00n), budget('02000', 'L', 0n)], spectrum: [], tolerance: 0n });
    expect([c.importedRows, c.nonZeroRows]).toEqual([0, 1]);
  });

  it('with a tolerance, says the totals agree only when they are equal, and by how much they differ otherwise', () => {
    const rows = [budget('01100', 'L', 100_00n), budget('02000', 'M', 50_00n)];
    const equal = compareWithSpectrum({ rows, spectrum: [spectrum('01100', 'L', 100_01n), spectrum('02000', 'M', 49_99n)], tolerance: 1n });
    expect(equal.explanation).toContain('; the totals agree: 150.00 in the budget, 150.00 in Spectrum.');
    const apart = compareWithSpectrum({ rows, spectrum: [spectrum('01100', 'L', 100_01n), spectrum('02000', 'M', 50_01n)], tolerance: 1n });
    expect(apart.outcome).toBe('synced');
    expect(apart.explanation).toBe(
      'Spectrum shows the exported revised estimate for all 2 row(s) of job 26-101 (within the tolerance of 0.01); the totals differ by 0.02 (every row within the tolerance): 150.00 in the budget, 150.02 in Spectrum.',
    );
    expect(apart.explanation).not.toContain('agree');
  });

  it('expects 0.00 for a removed row; a removed row whose Spectrum row the budget sets again is not compared twice', () => {
    const removed = budget('03300', 'M', 0n, { removed: true, removedEstimate: 5000_00n, originalBudget: 0n, spectrumAction: 'update', position: 999 });
    const zeroed = compareWithSpectrum({ rows: [budget('01100', 'L', 1000_00n), removed], spectrum: [spectrum('01100', 'L', 1000_00n), spectrum('03300', 'M', 0n)], tolerance: 0n });
    expect(zeroed.outcome).toBe('synced');
    expect(zeroed.rows[1]).toEqual({
      job: '26-101', phase: '03300', costType: 'M', description: 'Phase 03300', procoreRevised: '0.00', spectrumEstimated: '0.00', variance: '0.00',
      status: 'matched', removed: true, note: 'not in this version of the budget: set to 0.00 (an earlier export wrote 5000.00)',
    });
    expect(zeroed.explanation).toContain('all 2 row(s) of job 26-101, including 1 removed row at 0.00');
    const kept = compareWithSpectrum({ rows: [budget('01100', 'L', 1000_00n), removed], spectrum: [spectrum('01100', 'L', 1000_00n), spectrum('03300', 'M', 5000_00n)], tolerance: 0n });
    expect(kept.rows[1]).toMatchObject({ status: 'amount_differs', variance: '5000.00', removed: true });
    const covered = compareWithSpectrum({ rows: [budget('03300', 'M', 10_00n), { ...removed, phase: '3300' }], spectrum: [spectrum('03300', 'M', 10_00n)], tolerance: 0n });
    expect(covered.outcome).toBe('synced');
    expect(covered.rows).toHaveLength(1);
  });

  it('recognises a phase Spectrum stored zero-filled to the job\'s mask as the row that was sent', () => {
    const c = compareWithSpectrum({ rows: [budget('110', 'L', 100_00n), budget('01000', 'M', 5_00n)], spectrum: [spectrum('00110', 'L', 100_00n), spectrum('01000', 'M', 5_00n)], tolerance: 0n });
    expect(c.outcome).toBe('synced');
    expect(c.rows[0]).toMatchObject({ phase: '110', spectrumEstimated: '100.00', status: 'matched', note: "Spectrum stores phase 110 as 00110 (filled to the job's phase mask)" });
    expect(c.rows).toHaveLength(2);
  });

  it('reports duplicate keys on either side instead of a variance that can never clear', () => {
    const inBudget = compareWithSpectrum({ rows: [budget('01100', 'L', 10_00n), budget('01100', 'l', 20_00n)], spectrum: [spectrum('01100', 'L', 20_00n)], tolerance: 0n });
    expect(inBudget.rows.map((r) => [r.costType, r.status, r.note])).toEqual([
      ['L', 'duplicate_in_budget', '01100/l map to the same Spectrum row'],
      ['l', 'duplicate_in_budget', '01100/L map to the same Spectrum row'],
    ]);
    expect(inBudget.spectrumEstimatedTotal).toBe(20_00n);
    expect(inBudget.explanation).toContain('2 budget rows share one Spectrum row with another budget row');
    const inSpectrum = compareWithSpectrum({ rows: [budget('01100', 'L', 10_00n)], spectrum: [spectrum('01100', 'L', 10_00n), spectrum('01100', 'L', 10_00n)], tolerance: 0n });
    expect(inSpectrum.outcome).toBe('out_of_sync');
    expect(inSpectrum.rows).toEqual([
      expect.objectContaining({ status: 'duplicate_in_spectrum', spectrumEstimated: null, note: 'Spectrum returned 2 records for this row' }),
    ]);
    expect(inSpectrum.explanation).toContain('Spectrum returned more than one record for 1 budget row');
  });

  it('a record without a readable estimate is a variance on a budget row, and only flagged elsewhere in the job', () => {
    const broken = { ...spectrum('09000', 'O', 0n), currentEstimateDollars: null, problems: ['Current_Estimate_Dollars is missing: the record has no estimate'] } as SpectrumPhase;
    const elsewhere = compareWithSpectrum({ rows: [budget('01100', 'L', 10_00n)], spectrum: [spectrum('01100', 'L', 10_00n), broken], tolerance: 0n });
    expect(elsewhere.outcome).toBe('synced');
    expect(elsewhere.unreadableElsewhere).toBe(1);
    expect(elsewhere.rows[1]).toMatchObject({ phase: '09000', status: 'unreadable', procoreRevised: null, spectrumEstimated: null });
    expect(elsewhere.explanation).toContain('1 other Spectrum record of job 26-101 could not be read (09000/O: Current_Estimate_Dollars is missing: the record has no estimate) and was left out of the comparison.');
    const own = compareWithSpectrum({ rows: [budget('09000', 'O', 10_00n)], spectrum: [broken], tolerance: 0n });
    expect(own.outcome).toBe('out_of_sync');
    expect(own.rows[0]).toMatchObject({ status: 'unreadable', spectrumEstimated: null });
  });
});
