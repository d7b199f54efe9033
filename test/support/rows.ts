import type { SpectrumRow } from '../../src/budgets/submission-row.entity';

let next = 0;

/** A submission row for unit tests: pending, unflagged, on job 26-101, with what the test says. */
export function spectrumRow(fields: Partial<SpectrumRow> = {}): SpectrumRow {
  next++;
  return {
    id: String(next),
    position: next,
    job: '26-101',
    phase: '01100',
    costType: 'L',
    description: '',
    originalBudget: 0n,
    revisedEstimate: 0n,
    lineCount: 1,
    problems: [],
    exportState: 'pending',
    exportError: null,
    writtenAt: null,
    spectrumAction: null,
    removed: false,
    removedEstimate: null,
    ...fields,
  };
}
