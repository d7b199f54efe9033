import { formatMoney, MoneyFormatError, parseMoney, toCents } from './money';

describe('money', () => {
  it.each([
    ['1234.5', 123450n],
    ['.00', 0n],
    ['859.51', 85951n],
    ['-12.5', -1250n],
    ['-.05', -5n],
    ['1,234,567.89', 123456789n],
    [' 42 ', 4200n],
    ['+3.10', 310n],
    ['1e3', 100000n],
    ['1.5E-1', 15n],
  ])('parses %j exactly', (text, cents) => {
    expect(parseMoney(text)).toEqual({ cents, rounded: false });
  });

  it('takes JSON numbers by their shortest decimal text, so 0.10 + 0.20 is 0.30', () => {
    expect(toCents(0.1) + toCents(0.2)).toBe(30n);
    expect(toCents(44.45)).toBe(4445n);
    expect(toCents(1234567.89)).toBe(123456789n);
    expect(toCents(999999999.99)).toBe(99999999999n);
  });

  it('rounds more than two decimals half away from zero and says so', () => {
    expect(parseMoney('1.005')).toEqual({ cents: 101n, rounded: true });
    expect(parseMoney('-1.005')).toEqual({ cents: -101n, rounded: true });
    expect(parseMoney('1.004')).toEqual({ cents: 100n, rounded: true });
    expect(parseMoney('2.50000')).toEqual({ cents: 250n, rounded: false });
  });

  it.each(['', 'abc', '1.2.3', '--1', '12a', '.', NaN, Infinity])('refuses %j', (input) => {
    expect(() => parseMoney(input as string)).toThrow(MoneyFormatError);
  });

  it('formats with exactly two decimals and a visible sign', () => {
    expect(formatMoney(123450n)).toBe('1234.50');
    expect(formatMoney(-1205n)).toBe('-12.05');
    expect(formatMoney(-5n)).toBe('-0.05');
    expect(formatMoney(0n)).toBe('0.00');
  });
});
