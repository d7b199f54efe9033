import type { SpectrumRow } from '../budgets/submission-row.entity';
import { spectrumRow } from '../../test/support/rows';
import { checkRows, planExport } from './export-plan';
import { cutDescription } from './client/spectrum-limits';
import { SpectrumPhase } from './client/spectrum-records';
import { SpectrumRowIndex } from './spectrum-row-index';

function row(position: number, phase: string, costType: string, description = '', original = 100n, revised = 150n): SpectrumRow {
  return spectrumRow({ id: String(position + 1), position, phase, costType, description, originalBudget: original, revisedEstimate: revised });
}

function removedRow(position: number, phase: string, costType: string, dropped = 500n): SpectrumRow {
  return { ...row(position, phase, costType, 'Earlier text', 0n, 0n), removed: true, removedEstimate: dropped };
}

function phase(phaseCode: string, costType: string, description = 'In Spectrum', statusCode = 'A'): SpectrumPhase {
  return { jobNumber: '26-101', phaseCode, costType, description, statusCode, currentEstimateDollars: 0n } as SpectrumPhase;
}

const planWrites = (rows: SpectrumRow[], index: SpectrumRowIndex, priceMethodCode: string) => planExport(rows, index, priceMethodCode).writes;

describe('planExport', () => {
  const index = new SpectrumRowIndex([phase('03300', 'M'), phase('03300', 'S')]);

  it('sends Price_Method_Code only for rows Spectrum lacks; Description for a new phase, and for a new cost type on an existing phase exactly the text GetPhase returned', () => {
    const plan = planWrites(
      [row(0, '03300', 'M', 'Concrete'), row(1, '03300', 'E', 'Concrete'), row(2, '01100', 'L', 'General Conditions'), row(3, '01100', 'M', 'Other text')],
      index,
      'J',
    );
    expect(plan.map((w) => [w.action, w.fields])).toEqual([
      ['update', { jobNumber: '26-101', phaseCode: '03300', costType: 'M', originalEstCost: 100n, currentEstCost: 150n }],
      // The phase exists: its own Description (never the budget's text) rewrites nothing.
      ['new_row', { jobNumber: '26-101', phaseCode: '03300', costType: 'E', description: 'In Spectrum', originalEstCost: 100n, currentEstCost: 150n, priceMethodCode: 'J' }],
      // Both cost types of the new phase carry the phase's first text: either may reach Spectrum first.
      ['new_phase', { jobNumber: '26-101', phaseCode: '01100', costType: 'L', description: 'General Conditions', originalEstCost: 100n, currentEstCost: 150n, priceMethodCode: 'J' }],
      ['new_row', { jobNumber: '26-101', phaseCode: '01100', costType: 'M', description: 'General Conditions', originalEstCost: 100n, currentEstCost: 150n, priceMethodCode: 'J' }],
    ]);
  });

  it('matches codes trimmed and case-insensitively, and gives a new phase without text its code as description', () => {
    const plan = planWrites([row(0, ' 03300 ', 'm'), row(1, '07000', 'L', '   ')], index, 'F');
    expect(plan[0].action).toBe('update');
    expect(plan[1].fields).toMatchObject({ phaseCode: '07000', description: '07000', priceMethodCode: 'F' });
  });

  it('a removed row sends Current_Est_Cost 0.00 alone; one Spectrum lacks, or that a row of this version sets, sends nothing', () => {
    const plan = planExport([row(0, '03300', 'M'), removedRow(1, '03300', 'S'), removedRow(2, '09000', 'L'), removedRow(3, '3300', 'M')], index, 'J');
    expect(plan.writes.map((w) => [w.row.id, w.action, w.fields])).toEqual([
      ['1', 'update', { jobNumber: '26-101', phaseCode: '03300', costType: 'M', originalEstCost: 100n, currentEstCost: 150n }],
      ['2', 'update', { jobNumber: '26-101', phaseCode: '03300', costType: 'S', currentEstCost: 0n }],
    ]);
    // 09000/L: Spectrum holds no such row. 3300/M: Spectrum stores it as 03300/M, which row 1 sets.
    expect(plan.nothingToDo.map((r) => r.id)).toEqual(['3', '4']);
  });

  it('recognises a phase Spectrum stored zero-filled to the job\'s mask, and sends the stored form', () => {
    const filled = new SpectrumRowIndex([phase('00110', 'L', 'General'), phase('03300', 'M')]);
    const plan = planWrites([row(0, '110', 'L'), row(1, '110', 'M', 'Budget text'), row(2, '33', 'S')], filled, 'J');
    expect(plan.map((w) => [w.action, w.fields.phaseCode, w.fields.description])).toEqual([
      ['update', '00110', undefined],
      ['new_row', '00110', 'General'],
      // Both 00033 and 33000 would do; neither exists, so the phase is new.
      ['new_phase', '33', '33'],
    ]);
    expect(new SpectrumRowIndex([phase('00110', 'L'), phase('11000', 'L')]).resolvePhase('26-101', '110')).toEqual({ filled: true, ambiguous: ['00110', '11000'] });
  });

  it('flags before anything is written: two rows on one Spectrum row, an ambiguous fill, a cost type outside the list, a Complete row', () => {
    const spectrum = new SpectrumRowIndex([phase('00110', 'L'), phase('00110', 'M'), phase('04000', 'E', 'Done', 'C'), phase('77000', 'L'), phase('00770', 'L')]);
    const rows = [row(0, '110', 'L'), row(1, '00110', 'l'), row(2, '22', 'W'), row(3, '04000', 'E'), removedRow(4, '04000', 'E'), row(5, '770', 'M')];
    const flags = checkRows(rows, spectrum, { costTypes: new Set(['L', 'M', 'E']) });
    expect(flags.map((f) => [f.row.id, f.code, f.column])).toEqual([
      ['1', 'duplicate_key', 'Phase_Code'],
      ['2', 'duplicate_key', 'Phase_Code'],
      ['3', 'cost_type_unknown', 'Cost_Type'],
      ['4', 'phase_complete', 'Status_Code'],
      ['5', 'phase_complete', 'Status_Code'],
      ['6', 'phase_fill_ambiguous', 'Phase_Code'],
    ]);
    expect(flags[0].message).toBe(
      '110/L and 00110/l are one Spectrum row (26-101/00110/L): Spectrum holds one estimate per job, phase and cost type; fix the mapping so they map to one row',
    );
    expect(flags[3].message).toBe(
      'Phase 04000 cost type E of job 26-101 is Complete in Spectrum: the connector does not write to a Complete phase; reopen it in Spectrum, or take the row out of the budget',
    );
    // Without the list, cost types are not checked here (the preview only marks unused ones).
    expect(checkRows([row(0, '22', 'W')], spectrum, { costTypes: null })).toEqual([]);
  });

  it('cuts descriptions to 25 characters without splitting a character', () => {
    expect(cutDescription('Doors & Frames <Type A> — Béton coulé')).toBe('Doors & Frames <Type A> —');
    expect(cutDescription('😀'.repeat(30))).toBe('😀'.repeat(25));
    expect(cutDescription('short')).toBe('short');
    // An accent sent decomposed counts once, as Spectrum stores it; a space at the cut goes.
    expect(cutDescription(`${'e\u0301'.repeat(24)}xyz`)).toBe(`${'é'.repeat(24)}x`);
    expect(cutDescription('Cast-in-Place Concrete an d more')).toBe('Cast-in-Place Concrete an');
    expect(cutDescription('General Conditions       and more')).toBe('General Conditions');
  });
});
