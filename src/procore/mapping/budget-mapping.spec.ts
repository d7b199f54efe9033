import { formatMoney } from '../../common/money';
import type { ProcoreDetailRow, ProcoreLineItemType } from '../client/procore.types';
import { BudgetDataError, BudgetSource, mapBudget, needsCostCodeList, parseCostCodeText } from './budget-mapping';
import { EMPTY_MAPPING, parseMapping } from './mapping-file';

const TYPES: ProcoreLineItemType[] = [
  { id: 1, name: 'Labor', code: 'L', base_type: 'labor', origin_id: null },
  { id: 2, name: 'Material', code: 'M', base_type: 'material', origin_id: 'MAT' },
  { id: 3, name: 'Widgets', code: null, base_type: 'other', origin_id: null },
  { id: 4, name: 'Subcontract', code: 'SUBC', base_type: 'commitment', origin_id: null },
];

let nextId = 500001;
/** A detail row as Procore publishes it: view columns by display name, "Revised Budget" =
 * original unless given. */
function line(costCode: string | null, categoryId: number | null, original: number | string, extra: Partial<ProcoreDetailRow> = {}): ProcoreDetailRow {
  const type = TYPES.find((t) => t.id === categoryId);
  return {
    id: nextId++,
    cost_code_id: costCode ? 30000 + costCode.length : null,
    cost_code: costCode,
    cost_code_origin_id: null,
    category_id: categoryId,
    category: type?.name ?? null,
    original_budget_amount: original,
    budget_modifications: '0.00',
    'Approved COs': '0.00',
    'Revised Budget': original,
    ...extra,
  };
}

function withoutRevised(row: ProcoreDetailRow): ProcoreDetailRow {
  const { 'Revised Budget': _revised, ...rest } = row;
  return rest as ProcoreDetailRow;
}

function source(lines: ProcoreDetailRow[], project: Partial<BudgetSource['project']> = {}): BudgetSource {
  return {
    project: { id: 1001, name: 'Riverside', project_number: '26-101', origin_id: null, ...project },
    lines,
    lineItemTypes: TYPES,
  };
}

const money = (cents: bigint) => formatMoney(cents);

describe('mapBudget', () => {
  it('maps job, phase and cost type from derived codes and sums lines into rows', () => {
    const mapped = mapBudget(
      source([
        line('01-100 - General Conditions', 1, 412500, { budget_modifications: 100.5, 'Approved COs': '-0.50', 'Revised Budget': '412600.00' }),
        line('01-100 - General Conditions', 2, '38750.00'),
        line('03-300 - Cast-in-Place Concrete and Other Long Names', 1, 10),
      ]),
      EMPTY_MAPPING,
    );
    expect(mapped.job).toBe('26-101');
    expect(mapped.lines.map((l) => [l.costCode, l.category, l.job, l.phase, l.costType, l.rowPosition])).toEqual([
      ['01-100', 'Labor', '26-101', '01100', 'L', 0],
      ['01-100', 'Material', '26-101', '01100', 'MAT', 1], // the category's origin id wins over its code
      ['03-300', 'Labor', '26-101', '03300', 'L', 2],
    ]);
    expect(mapped.lines[0]).toMatchObject({ originalBudget: 41250000n, budgetChanges: 10000n, revisedEstimate: 41260000n });
    expect(mapped.lines[2].description).toBe('Cast-in-Place Concrete an'); // cut to 25, not flagged
    expect(mapped.lines[2].problems).toEqual([]);
    expect(mapped.rows).toHaveLength(3);
    expect(mapped.problemCount).toBe(0);
    expect(money(mapped.totals.revisedEstimate)).toBe('451360.00');
  });

  it('reads the revised estimate from the view column "Revised Budget", never from a sum of other columns', () => {
    const mapped = mapBudget(
      source([
        // Approved COs and budget changes are in Revised Budget; original + modifications would miss them.
        line('01-100 - A', 1, '45000.00', { 'Revised Budget': '50000.00', 'Approved COs': '5000.00', budget_modifications: '0.00' }),
        line('01-200 - B', 1, '100.00', { 'Revised Budget': '90.00', budget_modifications: 5, 'Approved COs': 5 }),
      ]),
      EMPTY_MAPPING,
    );
    expect(mapped.lines.map((l) => [money(l.originalBudget), money(l.budgetChanges), money(l.revisedEstimate)])).toEqual([
      ['45000.00', '5000.00', '50000.00'],
      ['100.00', '-10.00', '90.00'],
    ]);
  });

  it('reads "45000.0", "45000.00" and the JSON number 45000 exactly alike', () => {
    const mapped = mapBudget(
      source([line('01-100 - A', 1, '45000.0', { 'Revised Budget': '50000.0' }), line('01-200 - B', 1, '45000.00', { 'Revised Budget': '50000.00' }), line('01-300 - C', 1, 45000, { 'Revised Budget': 50000 })]),
      EMPTY_MAPPING,
    );
    expect(mapped.lines.map((l) => [l.originalBudget, l.budgetChanges, l.revisedEstimate, l.notes])).toEqual([
      [4500000n, 500000n, 5000000n, []],
      [4500000n, 500000n, 5000000n, []],
      [4500000n, 500000n, 5000000n, []],
    ]);
  });

  it('matches the revised column by a normalised name: case, spaces and punctuation do not matter', () => {
    const rows = (key: string) => [withoutRevised(line('01-100 - A', 1, '1.00', { [key]: '2.50' }))];
    for (const key of ['revised_budget', 'REVISED BUDGET', ' Revised-Budget ']) {
      expect(money(mapBudget(source(rows(key)), EMPTY_MAPPING).lines[0].revisedEstimate)).toBe('2.50');
    }
    const renamed = mapBudget(
      { ...source([withoutRevised(line('01-100 - A', 1, '1.00', { 'Revised Estimate (Owner)': '3.00' }))]), revisedColumn: 'revised estimate owner' },
      EMPTY_MAPPING,
    );
    expect(money(renamed.lines[0].revisedEstimate)).toBe('3.00');
  });

  it('a view without the revised column stops the read, naming the view and the columns it has', () => {
    const rows = [withoutRevised(line('01-100 - A', 1, '1.00', { 'Direct Costs': '1.00' }))];
    const read = () => mapBudget({ ...source(rows), view: { id: 2001, name: 'Cost view' } }, EMPTY_MAPPING);
    expect(read).toThrow(BudgetDataError);
    expect(read).toThrow(
      'Budget view "Cost view" (2001) of Procore project 1001 has no "Revised Budget" column, so the budget\'s revised estimate cannot be read ' +
        '(its columns are "Approved COs", "Direct Costs"). Show the column in the view, or set PROCORE_REVISED_COLUMN to the name the view gives it.',
    );
  });

  it('flags a line whose amounts are not amounts, or are empty, and keeps it out of rows and totals', () => {
    const mapped = mapBudget(
      source([
        line('01-100 - A', 1, '10.00'),
        line('01-200 - B', 1, 'e5'),
        line('01-300 - C', 1, '1.00', { 'Revised Budget': '1,23' }),
        line('01-400 - D', 1, '1.00', { 'Revised Budget': null }),
      ]),
      EMPTY_MAPPING,
    );
    expect(mapped.lines.slice(1).map((l) => [l.problems, l.rowPosition, money(l.revisedEstimate)])).toEqual([
      [['Line 2 (01-200 Labor): its original budget "e5" is not an amount; its revised budget (view column "Revised Budget") "e5" is not an amount'], null, '0.00'],
      [['Line 3 (01-300 Labor): its revised budget (view column "Revised Budget") "1,23" is not an amount'], null, '0.00'],
      [['Line 4 (01-400 Labor): its revised budget (view column "Revised Budget") is empty'], null, '0.00'],
    ]);
    expect(mapped.rows).toHaveLength(1);
    expect(mapped.problemCount).toBe(3);
    expect(money(mapped.totals.revisedEstimate)).toBe('10.00');
  });

  it('keeps amounts exact: 0.10 + 0.20 = 0.30 and 1,234,567.89 survives to the cent', () => {
    const overrides = parseMapping('phases:\n  02-100: "02000"\n  02-200: "02000"\n');
    const mapped = mapBudget(
      source([line('02-100 - A', 1, 0.1), line('02-200 - B', 1, '0.20'), line('02-300 - C', 1, '1,234,567.89'), line('02-400 - D', 1, 1234567.89)]),
      overrides,
    );
    expect(mapped.rows.map((r) => [r.phase, money(r.originalBudget), r.lineCount])).toEqual([
      ['02000', '0.30', 2],
      ['02300', '1234567.89', 1],
      ['02400', '1234567.89', 1],
    ]);
    expect(money(mapped.totals.originalBudget)).toBe('2469136.08');
  });

  it('rounds more than two decimals half away from zero and notes it on the line', () => {
    const mapped = mapBudget(source([line('26-500 - Lighting', 2, '226480.125'), line('26-510 - X', 2, -0.005)]), EMPTY_MAPPING);
    expect(money(mapped.lines[0].originalBudget)).toBe('226480.13');
    expect(mapped.lines[0].notes).toEqual(['Original budget 226480.125 was rounded to 226480.13', 'Revised budget 226480.125 was rounded to 226480.13']);
    expect(money(mapped.lines[1].originalBudget)).toBe('-0.01');
    expect(mapped.lines[0].problems).toEqual([]);
  });

  it('uses the mapping file first: project phases, company phases, jobs, cost types by name', () => {
    const overrides = parseMapping(
      'jobs:\n  "1001": "J-1001"\nphases:\n  01-100: "011000"\n  09-900: "090000"\ncostTypes:\n  labor: LB\nprojects:\n  "1001":\n    phases:\n      09-900: "099000"\n',
    );
    const mapped = mapBudget(
      source([line('01-100 - A', 1, 1), line('09-900 - B', 2, 1, { cost_code_origin_id: 'ORIGIN' }), line('05-100 - C', 2, 1, { cost_code_origin_id: '5100X' })], {
        origin_id: 'ORIGINJOB',
      }),
      overrides,
    );
    expect(mapped.lines.map((l) => [l.job, l.phase, l.costType])).toEqual([
      ['J-1001', '011000', 'LB'],
      ['J-1001', '099000', 'MAT'],
      ['J-1001', '5100X', 'MAT'],
    ]);
  });

  it('job: origin id before project number; none → every line flagged', () => {
    expect(mapBudget(source([line('01-100 - A', 1, 1)], { origin_id: '9001' }), EMPTY_MAPPING).job).toBe('9001');
    const unmapped = mapBudget(source([line('01-100 - A', 1, 1)], { project_number: null }), EMPTY_MAPPING);
    expect(unmapped.job).toBeNull();
    expect(unmapped.lines[0].problems).toEqual([
      'Line 1 (01-100 Labor): project 1001 maps to no Spectrum job: add it under jobs in the mapping file, or give the project an origin id or a project number in Procore',
    ]);
    expect(unmapped.rows).toEqual([]);
    expect(unmapped.problemCount).toBe(1);
  });

  it('flags a line whose category maps to nothing, naming the line', () => {
    const mapped = mapBudget(source([line('01-100 - A', 1, 1), line('02-200 - Sitework', 3, 500), line('02-300 - X', null, 1)]), EMPTY_MAPPING);
    expect(mapped.lines[1]).toMatchObject({ phase: '02200', costType: null, rowPosition: null });
    expect(mapped.lines[1].problems).toEqual([
      'Line 2 (02-200 Widgets): category "Widgets" maps to no Spectrum cost type: add it under costTypes in the mapping file, or give the category a code in Procore',
    ]);
    expect(mapped.lines[2].problems).toEqual(['Line 3 (02-300 (no category)): the line has no category, so it maps to no Spectrum cost type']);
    expect(mapped.problemCount).toBe(2);
    expect(mapped.rows).toHaveLength(1);
  });

  it('checks Spectrum limits on rows and names the lines of the row', () => {
    const mapped = mapBudget(
      source([
        line('01-1000-2000-3000-4000-5000 - Long', 1, 1),
        line('03-100 - Big', 1, '600000000.00'),
        line('04-100 - Fine', 1, 1),
        line('03-100 - Big', 1, '500000000.00'),
        line('05-100 - Sub', 4, 1),
      ]),
      EMPTY_MAPPING,
    );
    expect(mapped.rows.map((r) => r.problems)).toEqual([
      [`Row 26-101/0110002000300040005000/L (line 1: 01-1000-2000-3000-4000-5000 Labor): phase "0110002000300040005000" is longer than Spectrum's 20 characters`],
      [
        `Row 26-101/03100/L (lines 2, 4: 03-100 Labor): the original budget 1100000000.00 does not fit Spectrum's 12 characters (at most 999999999.99); the revised estimate 1100000000.00 does not fit Spectrum's 12 characters (at most 999999999.99)`,
      ],
      [],
      [`Row 26-101/05100/SUBC (line 5: 05-100 Subcontract): cost type "SUBC" is longer than Spectrum's 3 characters`],
    ]);
    expect(mapped.lines[3].problems).toEqual(mapped.rows[1].problems);
    expect(mapped.problemCount).toBe(3);
  });

  it('flags a dash in a phase taken from an origin id; a long job flags its rows', () => {
    const mapped = mapBudget(source([line('01-100 - A', 1, 1, { cost_code_origin_id: '01-100' })], { project_number: 'PROJECT-NUMBER-26' }), EMPTY_MAPPING);
    expect(mapped.rows[0].problems).toEqual([
      `Row PROJECT-NUMBER-26/01-100/L (line 1: 01-100 Labor): job "PROJECT-NUMBER-26" is longer than Spectrum's 10 characters; phase "01-100" contains a dash, which Spectrum phases cannot have`,
    ]);
  });

  it('the fingerprint follows the budget, not the mapping', () => {
    const lines = [line('01-100 - A', 1, 1), line('01-200 - B', 2, 2)];
    const a = mapBudget(source(lines), EMPTY_MAPPING);
    expect(mapBudget(source(lines), parseMapping('phases:\n  01-100: "X"\n')).fingerprint).toBe(a.fingerprint);
    const changed = [lines[0], { ...lines[1], original_budget_amount: 2.01 }];
    expect(mapBudget(source(changed), EMPTY_MAPPING).fingerprint).not.toBe(a.fingerprint);
  });

  it('the fingerprint follows every Procore-side input of the mapping, so fixing what a flag asked for is a change', () => {
    const lines = [line('01-100 - A', 3, 1), line('01-200 - B', 4, 2)];
    const base = mapBudget(source(lines), EMPTY_MAPPING);
    expect(base.problemCount).toBe(2); // Widgets has no code; SUBC is too long
    const variants: Array<[string, BudgetSource]> = [
      ['project origin id', source(lines, { origin_id: '26-101' })],
      ['project number', source(lines, { project_number: '26-102' })],
      ['cost code origin id', source([{ ...lines[0], cost_code_origin_id: '01100' }, lines[1]])],
      ['category code', { ...source(lines), lineItemTypes: TYPES.map((t) => (t.id === 3 ? { ...t, code: 'W' } : t)) }],
      ['category origin id', { ...source(lines), lineItemTypes: TYPES.map((t) => (t.id === 4 ? { ...t, origin_id: 'S' } : t)) }],
      ['category name', { ...source(lines), lineItemTypes: TYPES.map((t) => (t.id === 3 ? { ...t, name: 'Gadgets' } : t)) }],
      [
        'cost code list entry',
        {
          ...source([line('01-100', 1, 1, { cost_code_id: 30001 })]),
          costCodes: [{ id: 30001, code: '100', full_code: '01-100', name: 'A', origin_id: 'X100' }],
        },
      ],
    ];
    const listed = mapBudget(
      { ...source([line('01-100', 1, 1, { cost_code_id: 30001 })]), costCodes: [{ id: 30001, code: '100', full_code: '01-100', name: 'A', origin_id: null }] },
      EMPTY_MAPPING,
    );
    for (const [label, variant] of variants) {
      const reference = label === 'cost code list entry' ? listed : base;
      expect({ label, same: mapBudget(variant, EMPTY_MAPPING).fingerprint === reference.fingerprint }).toEqual({ label, same: false });
    }
    // The same Procore data always gives the same fingerprint.
    expect(mapBudget(source(lines), EMPTY_MAPPING).fingerprint).toBe(base.fingerprint);
  });

  it('refuses, line by line, amounts and differences numeric(18,2) cannot hold', () => {
    const mapped = mapBudget(
      source([
        line('01-100 - A', 1, '12345678901234567.00'),
        line('01-200 - B', 1, '-9000000000000000.00', { 'Revised Budget': '9000000000000000.00' }),
        line('01-300 - C', 1, '9999999999999999.99'),
      ]),
      EMPTY_MAPPING,
    );
    expect(mapped.lines[0].problems).toEqual([
      'Line 1 (01-100 Labor): its original budget "12345678901234567.00" is beyond what the connector can store (at most 9999999999999999.99); its revised budget (view column "Revised Budget") "12345678901234567.00" is beyond what the connector can store (at most 9999999999999999.99)',
    ]);
    expect(mapped.lines[1].problems).toEqual([
      'Line 2 (01-200 Labor): its budget changes 18000000000000000.00 (revised − original) are beyond what the connector can store (at most 9999999999999999.99)',
    ]);
    // The largest storable amount is taken (and flagged for Spectrum, which holds 12 characters).
    expect(money(mapped.lines[2].revisedEstimate)).toBe('9999999999999999.99');
    expect(mapped.rows.map((r) => r.phase)).toEqual(['01300']);
  });

  it('a row or a total numeric(18,2) cannot hold is flagged, never handed to an insert', () => {
    const lines = Array.from({ length: 3 }, () => line('01-100 - A', 1, '6000000000000000.00'));
    const mapped = mapBudget(source(lines), EMPTY_MAPPING);
    expect(mapped.rows).toHaveLength(1);
    expect(mapped.rows[0]).toMatchObject({ originalBudget: 0n, revisedEstimate: 0n });
    expect(mapped.rows[0].problems[0]).toMatch(/^Row 26-101\/01100\/L \(lines 1, 2, 3: 01-100 Labor\): the original budget 18000000000000000.00 does not fit Spectrum/);
    expect(mapped.rows[0].problems[0]).toMatch(/the budget's totals \(original 18000000000000000.00, revised 18000000000000000.00\) are beyond what the connector can store/);
    expect(mapped.totals).toEqual({ originalBudget: 0n, budgetChanges: 0n, revisedEstimate: 0n });
    expect(mapped.problemCount).toBe(1);
  });

  it('reads cost codes from the detail row text, or from the cost code list when the text is not readable', () => {
    expect(parseCostCodeText('01-100 - General Conditions - Phase 2')).toEqual({ fullCode: '01-100', name: 'General Conditions - Phase 2' });
    expect(parseCostCodeText('01-100')).toBeNull();
    const rows = [line('01-100', 1, 1, { cost_code_id: 30001 })];
    expect(needsCostCodeList(rows)).toBe(true);
    const mapped = mapBudget(
      { ...source(rows), costCodes: [{ id: 30001, code: '100', full_code: '01-100', name: 'General Conditions', origin_id: null }] },
      EMPTY_MAPPING,
    );
    expect(mapped.lines[0]).toMatchObject({ costCode: '01-100', phase: '01100', description: 'General Conditions' });
  });
});
