import { ExportRow } from '../spectrum/export-plan';
import { SpectrumPhase } from '../spectrum/spectrum-records';
import { compareWithSpectrum } from './reconciliation-comparer';

let position = 0;
function budget(phase: string, costType: string, revised: bigint, options: Partial<ExportRow> = {}): ExportRow {
  position++;
  return {
    id: String(position),
    position,
    job: '26-101',
    phase,
    costType,
    description: `Phase ${phase}`,
    originalBudget: revised,
    revisedEstimate: revised,
    exportState: 'written',
    spectrumAction: 'new_phase',
    ...options,
  };
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
    expect(c.counts).toEqual({ matched: 1, amount_differs: 1, missing_in_spectrum: 1, not_in_budget: 2 });
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
});
