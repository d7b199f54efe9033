import { procoreErrorMessage } from './procore-errors';
import { ShapeError, detailRowCheck, projectCheck, webhookHookCheck, v2, list } from './procore-schema';

describe('Procore response checks', () => {
  const row = {
    id: 500001,
    cost_code_id: 30001,
    cost_code: '01-100 - General Conditions',
    cost_code_origin_id: null,
    category_id: 40001,
    category: 'Labor',
    original_budget_amount: 44.45,
    budget_modifications: '1,000.10',
    'Revised Budget': '1044.55',
  };

  it('accepts amounts as numbers or text, keeps view columns by their display names', () => {
    const checked = detailRowCheck(row, '');
    expect(checked.original_budget_amount).toBe(44.45);
    expect(checked.budget_modifications).toBe('1,000.10');
    expect(checked['Revised Budget']).toBe('1044.55');
    // Whether text is an amount is the mapping's to say (it flags the line).
    expect(detailRowCheck({ ...row, original_budget_amount: 'n/a' }, '').original_budget_amount).toBe('n/a');
  });

  it('names the offending field and value', () => {
    expect(() => list(detailRowCheck)([row, { ...row, original_budget_amount: { amount: 1 } }], '')).toThrow(
      new ShapeError('[1].original_budget_amount', 'an amount (number or decimal text)', { amount: 1 }),
    );
    expect(() => list(detailRowCheck)([row, { ...row, original_budget_amount: true }], '')).toThrow(
      '[1].original_budget_amount: expected an amount (number or decimal text), got boolean true',
    );
    expect(() => projectCheck({ id: 1, active: true }, '')).toThrow('name: expected text, got nothing');
    expect(() => projectCheck({ id: -1, name: 'x', active: true }, '')).toThrow('id: expected an id');
  });

  it('normalises ids: digit text to numbers, origin ids and v2 ids to text', () => {
    const project = projectCheck({ id: '1001', name: 'P', active: true, origin_id: 26101 }, '');
    expect(project.id).toBe(1001);
    expect(project.origin_id).toBe('26101');
    expect(project.project_number).toBeNull();
    const hook = v2(webhookHookCheck)({ data: { id: 17, namespace: 'n', destination_url: 'https://x' } }, '');
    expect(hook.id).toBe('17');
  });
});

describe('procoreErrorMessage', () => {
  it('reads the shapes Procore uses', () => {
    expect(procoreErrorMessage({ errors: 'Budget is not locked' })).toBe('Budget is not locked');
    expect(procoreErrorMessage({ errors: ['a', 'b'] })).toBe('a; b');
    expect(procoreErrorMessage({ errors: { destination_url: ['must be a URL'] } })).toBe(
      'destination_url must be a URL',
    );
    expect(procoreErrorMessage({ error: 'invalid_client', error_description: 'Client authentication failed' })).toBe(
      'invalid_client; Client authentication failed',
    );
    expect(procoreErrorMessage({ error: { message: 'Not allowed' } })).toBe('Not allowed');
    expect(procoreErrorMessage({ message: 'Oops' })).toBe('Oops');
    expect(procoreErrorMessage('Service Unavailable')).toBe('Service Unavailable');
    expect(procoreErrorMessage('<html><body><h1>502 Bad Gateway</h1></body></html>')).toBeUndefined();
    expect(procoreErrorMessage(undefined)).toBeUndefined();
    expect(procoreErrorMessage({})).toBeUndefined();
  });
});
