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

  it.each([
    ['e5', 'no digits in the mantissa (read as 0.00 before)'],
    ['-e5', 'no digits in the mantissa'],
    ['.e1', 'no digits in the mantissa'],
    ['1,23', 'a thousands group of two digits (read as 123.00 before)'],
    ['1,2345', 'a thousands group of four digits'],
    ['1234,567', 'a leading group of four digits'],
    [',123', 'a separator first'],
    ['1,234.5,6', 'a separator in the fraction'],
    ['1,234e2', 'separators with an exponent'],
    ['1e31', 'an exponent beyond 30'],
    ['1e-31', 'an exponent below -30'],
    ['1e9999999999', 'a ten-digit exponent (a RangeError before)'],
    ['1e500000000', 'a nine-digit exponent (500 MB of zeros before)'],
    [1e300, 'a JSON number far beyond any amount'],
    ['1'.repeat(65), 'text longer than 64 characters'],
  ] as Array<[string | number, string]>)('refuses %j (%s)', (input) => {
    expect(() => parseMoney(input as string)).toThrow(MoneyFormatError);
  });

  it.each([
    ['1,234.50', 123450n],
    ['-1,234,567', -123456700n],
    ['999', 99900n],
    ['1e30', 10n ** 32n],
    ['5e-3', 1n],
    ['1E+2', 10000n],
  ])('accepts %j', (text, cents) => {
    expect(parseMoney(text).cents).toBe(cents);
  });

  it('refuses hostile text by its form, before any work proportional to an exponent or a length', () => {
    // A RangeError (or an allocation of hundreds of MB) here would mean the exponent was applied.
    for (const text of ['1e9999999999', '1e500000000', '1e31', `1${',000'.repeat(15)}x`, ` ${'1'.repeat(100)} `]) {
      expect(() => parseMoney(text)).toThrow(MoneyFormatError);
    }
  });

  it('names the reason and quotes at most 40 characters of the input', () => {
    expect(() => parseMoney('1e99')).toThrow('exponent out of range: "1e99"');
    expect(() => parseMoney('x'.repeat(80))).toThrow(`longer than 64 characters: "${'x'.repeat(37)}..."`);
  });

  it('formats with exactly two decimals and a visible sign', () => {
    expect(formatMoney(123450n)).toBe('1234.50');
    expect(formatMoney(-1205n)).toBe('-12.05');
    expect(formatMoney(-5n)).toBe('-0.05');
    expect(formatMoney(0n)).toBe('0.00');
  });
});
