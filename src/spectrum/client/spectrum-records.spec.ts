import { SpectrumResponseFormatError } from './spectrum.errors';
import { dateField, decimalField, moneyField, toAddPhaseResult, toPhase, toPhaseEnhanced } from './spectrum-records';

describe('Spectrum records', () => {
  it('parses money into exact cents from Spectrum text', () => {
    const r = { a: '.00', b: '859.51', c: '-12.5', d: ' 1250.40 ', e: '', f: '999999999.99' };
    expect(moneyField(r, 'GetPhase', 'a')).toBe(0n);
    expect(moneyField(r, 'GetPhase', 'b')).toBe(85951n);
    expect(moneyField(r, 'GetPhase', 'c')).toBe(-1250n);
    expect(moneyField(r, 'GetPhase', 'd')).toBe(125040n);
    expect(moneyField(r, 'GetPhase', 'e')).toBe(0n);
    expect(moneyField(r, 'GetPhase', 'f')).toBe(99999999999n);
    expect(moneyField(r, 'GetPhase', 'absent')).toBe(0n);
  });

  it('rejects text that is not an amount', () => {
    expect(() => moneyField({ a: '12x' }, 'GetPhase', 'a')).toThrow(SpectrumResponseFormatError);
  });

  it('accepts both spellings of the current estimate', () => {
    expect(toPhase({ Phase_Code: '1', Current_Estimate_Dollars: '10.10' }, 'GetPhase').currentEstimateDollars).toBe(1010n);
    expect(toPhase({ Phase_Code: '1', Current_Estimated_Dollars: '20.20' }, 'GetPhase').currentEstimateDollars).toBe(2020n);
  });

  it('a missing or unreadable estimate is null with the reason, never 0.00', () => {
    expect(toPhase({ Phase_Code: '1', Cost_Type: 'L' }, 'GetPhase')).toMatchObject({
      currentEstimateDollars: null,
      problems: ['Current_Estimate_Dollars is missing: the record has no estimate'],
    });
    expect(toPhase({ Phase_Code: '1', Cost_Type: 'L', Current_Estimate_Dollars: ' ' }, 'GetPhase').currentEstimateDollars).toBeNull();
    expect(toPhase({ Phase_Code: '1', Cost_Type: 'L', Current_Estimate_Dollars: '1e', JTD_Actual_Dollars: 'x' }, 'GetPhase').problems).toEqual([
      'Current_Estimate_Dollars is not an amount: "1e"',
      'JTD_Actual_Dollars is not an amount: "x"',
    ]);
    const clean = toPhase({ Phase_Code: '1', Cost_Type: 'L', Current_Estimate_Dollars: '.00' }, 'GetPhase');
    expect(clean.currentEstimateDollars).toBe(0n);
    expect(clean.problems).toBeUndefined();
  });

  it('normalises decimals and dates', () => {
    expect(decimalField({ q: '.00' }, 'q')).toBe('0.00');
    expect(decimalField({ q: '-.5' }, 'q')).toBe('-0.5');
    expect(decimalField({ q: '' }, 'q')).toBe('0');
    expect(dateField({ d: '3/7/2026' }, 'd')).toBe('2026-03-07');
    expect(dateField({ d: ' ' }, 'd')).toBeNull();
    const enhanced = toPhaseEnhanced({ Phase_Code: '1', Price_Method_Code: 'j', Start_Date: '12/31/2025' }, 'GetPhaseEnhanced');
    expect(enhanced).toMatchObject({ priceMethodCode: 'J', startDate: '2025-12-31', completeDate: null });
  });

  it('sorts write answers into errors and notes', () => {
    expect(toAddPhaseResult([])).toEqual({ ok: true, warnings: [], errors: [] });
    expect(toAddPhaseResult([{ error_code: ' ', desc: ' ', column: ' ' }])).toEqual({ ok: true, warnings: [], errors: [] });
    expect(toAddPhaseResult([{ error_code: '', desc: '', column: '' }]).ok).toBe(true);
    expect(toAddPhaseResult([{ error_code: 'W', desc: 'Phase is inactive', column: 'Status_Code' }])).toEqual({
      ok: true,
      warnings: [{ code: 'W', message: 'Phase is inactive', column: 'Status_Code' }],
      errors: [],
    });
    expect(toAddPhaseResult([{ error_code: 'G', desc: 'Phase added', column: '' }]).ok).toBe(true);
    const failed = toAddPhaseResult([
      { error_code: 'I', desc: 'Invalid cost type', column: 'Cost_Type' },
      { error_code: 'M', desc: 'Description is required', column: 'Description' },
    ]);
    expect(failed.ok).toBe(false);
    expect(failed.errors.map((e) => e.code)).toEqual(['I', 'M']);
    expect(toAddPhaseResult([{ error_code: 'Z', desc: 'odd', column: '' }]).ok).toBe(false);
  });
});
