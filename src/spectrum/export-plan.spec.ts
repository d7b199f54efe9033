import { ExportRow, indexPhases, planWrites } from './export-plan';
import { cutDescription } from './spectrum-limits';
import { SpectrumPhase } from './spectrum-records';

function row(position: number, phase: string, costType: string, description = '', original = 100n, revised = 150n): ExportRow {
  return {
    id: String(position + 1),
    position,
    job: '26-101',
    phase,
    costType,
    description,
    originalBudget: original,
    revisedEstimate: revised,
    exportState: 'pending',
    spectrumAction: null,
  };
}

function phase(phaseCode: string, costType: string, description = 'In Spectrum'): SpectrumPhase {
  return { jobNumber: '26-101', phaseCode, costType, description, currentEstimateDollars: 0n } as SpectrumPhase;
}

describe('planWrites', () => {
  const index = indexPhases([phase('03300', 'M'), phase('03300', 'S')]);

  it('sends Price_Method_Code only for rows Spectrum lacks and Description only for phases it lacks', () => {
    const plan = planWrites(
      [row(0, '03300', 'M', 'Concrete'), row(1, '03300', 'E', 'Concrete'), row(2, '01100', 'L', 'General Conditions'), row(3, '01100', 'M', 'Other text')],
      index,
      'J',
    );
    expect(plan.map((w) => [w.action, w.fields])).toEqual([
      ['update', { jobNumber: '26-101', phaseCode: '03300', costType: 'M', originalEstCost: 100n, currentEstCost: 150n }],
      ['new_row', { jobNumber: '26-101', phaseCode: '03300', costType: 'E', originalEstCost: 100n, currentEstCost: 150n, priceMethodCode: 'J' }],
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
