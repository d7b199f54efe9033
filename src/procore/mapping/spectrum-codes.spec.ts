import type { ProcoreDetailRow, ProcoreLineItemType } from '../client/procore.types';
import { BudgetSource, mapBudget } from './budget-mapping';
import { EMPTY_MAPPING, parseMapping } from './mapping-file';

/** Spectrum's keys as Spectrum keys them (issue 9.6) and job numbers SuperSelect would misread (issue 8). */
const TYPES: ProcoreLineItemType[] = [
  { id: 1, name: 'Labor', code: 'L', base_type: 'labor', origin_id: null },
  { id: 2, name: 'Field labor', code: 'l', base_type: 'labor', origin_id: null },
  { id: 3, name: 'Material', code: ' m ', base_type: 'material', origin_id: null },
];

let nextId = 700001;
/** A detail row as Procore's view returns it (amounts as text; the revised column by its display name). */
function row(fullCode: string, name: string, categoryId: number, amount: string): ProcoreDetailRow {
  const type = TYPES.find((t) => t.id === categoryId)!;
  return {
    id: nextId++,
    cost_code_id: 40000 + nextId,
    cost_code: `${fullCode} - ${name}`,
    cost_code_origin_id: null,
    category_id: categoryId,
    category: type.name,
    original_budget_amount: amount,
    budget_modifications: '0.00',
    'Revised Budget': amount,
    revised_budget: amount,
  } as unknown as ProcoreDetailRow;
}

function source(lines: ProcoreDetailRow[], projectNumber = '26-101'): BudgetSource {
  return { project: { id: 1001, name: 'Riverside', project_number: projectNumber, origin_id: null }, lines, lineItemTypes: TYPES };
}

describe('Spectrum codes at mapping', () => {
  it('cost types L and l are one Spectrum row: upper case, trimmed, the lines summed', () => {
    const mapped = mapBudget(source([row('01-100', 'General', 1, '100.00'), row('01-100', 'General', 2, '50.25'), row('01-100', 'General', 3, '7.00')]), EMPTY_MAPPING);
    expect(mapped.lines.map((l) => [l.costType, l.rowPosition])).toEqual([
      ['L', 0],
      ['L', 0],
      ['M', 1],
    ]);
    expect(mapped.rows.map((r) => [r.phase, r.costType, r.revisedEstimate, r.lineCount])).toEqual([
      ['01100', 'L', 15025n, 2],
      ['01100', 'M', 700n, 1],
    ]);
    expect(mapped.problemCount).toBe(0);
  });

  it('phases 0110a and 0110A are one Spectrum row; mapping-file values are upper-cased too', () => {
    const mapped = mapBudget(source([row('0110a', 'Site', 1, '10.00'), row('0110A', 'Site', 1, '20.00')]), EMPTY_MAPPING);
    expect(mapped.rows.map((r) => [r.phase, r.costType, r.revisedEstimate, r.lineCount])).toEqual([['0110A', 'L', 3000n, 2]]);
    const overridden = mapBudget(source([row('02-200', 'Earthwork', 3, '1.00')]), parseMapping('phases:\n  02-200: 2200x\ncostTypes:\n  Material: mt\n'));
    expect(overridden.rows.map((r) => [r.phase, r.costType])).toEqual([['2200X', 'MT']]);
  });

  it.each([
    ['26*101', '"*"'],
    ['26?101', '"?"'],
    ['26,101', '","'],
    ['26/101', '"/"'],
    ['#26101', '"#"'],
  ])('a job number with a SuperSelect operator (%s) is flagged at mapping, naming it', (job, operator) => {
    const mapped = mapBudget(source([row('01-100', 'General', 1, '1.00')], job), EMPTY_MAPPING);
    expect(mapped.problemCount).toBe(1);
    expect(mapped.rows[0].problems[0]).toContain(`contains ${operator}, an operator in Spectrum's SuperSelect fields`);
    expect(mapped.lines[0].problems[0]).toBe(mapped.rows[0].problems[0]);
  });

  it('the job number ALL (any case) is flagged; a mapping file naming such a job is refused', () => {
    const mapped = mapBudget(source([row('01-100', 'General', 1, '1.00')], 'all'), EMPTY_MAPPING);
    expect(mapped.job).toBe('ALL');
    expect(mapped.rows[0].problems[0]).toContain(`job "ALL" is Spectrum's SuperSelect keyword ALL`);
    expect(() => parseMapping('jobs:\n  "1001": 26/101\n')).toThrow(/jobs\."1001": job "26\/101" contains "\/", an operator in Spectrum's SuperSelect fields/);
  });
});
