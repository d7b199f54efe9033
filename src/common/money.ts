/**
 * Exact money: amounts are bigint cents everywhere inside the connector and are parsed from and
 * formatted to decimal text only at the edges. Binary floating point never touches an amount.
 */
export type Cents = bigint;

export class MoneyFormatError extends Error {
  constructor(readonly input: unknown) {
    super(`not an amount: ${JSON.stringify(input)}`);
  }
}

export interface ParsedMoney {
  cents: Cents;
  /** True when the input had more than two decimals and was rounded half away from zero. */
  rounded: boolean;
}

const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;
const EXPONENT = /^([+-]?\d*\.?\d*)[eE]([+-]?\d+)$/;

/**
 * Parses decimal text (`"1234.5"`, `".00"`, `"-12.05"`, `"1,234,567.89"`) or a JSON number into
 * cents. More than two decimals are rounded half away from zero and reported.
 */
export function parseMoney(input: string | number): ParsedMoney {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new MoneyFormatError(input);
    // The shortest text that round-trips the double: what the JSON carried for any amount with
    // at most 15 significant digits.
    text = String(input);
  } else if (typeof input === 'string') {
    text = input.trim().replace(/,/g, '');
  } else {
    throw new MoneyFormatError(input);
  }
  const exp = EXPONENT.exec(text);
  if (exp) text = shiftDecimal(exp[1], Number(exp[2]));
  const match = DECIMAL.exec(text);
  if (!match || (match[2] === '' && (match[3] ?? '') === '')) throw new MoneyFormatError(input);
  const negative = match[1] === '-';
  const whole = match[2] || '0';
  const fraction = match[3] ?? '';
  let cents = BigInt(whole) * 100n + BigInt((fraction + '00').slice(0, 2));
  const rest = fraction.slice(2);
  const rounded = /[1-9]/.test(rest);
  if (rest.length > 0 && rest[0] >= '5') cents += 1n;
  if (negative) cents = -cents;
  return { cents, rounded };
}

/** Parses or throws; for values that must already be exact to the cent. */
export function toCents(input: string | number): Cents {
  return parseMoney(input).cents;
}

/** `"1234.50"`, `"-12.05"`, `"0.00"`: exactly two decimals, no grouping. */
export function formatMoney(cents: Cents): string {
  const negative = cents < 0n;
  const abs = negative ? -cents : cents;
  const whole = abs / 100n;
  const fraction = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}${whole}.${fraction}`;
}

export function absCents(value: Cents): Cents {
  return value < 0n ? -value : value;
}

function shiftDecimal(mantissa: string, exponent: number): string {
  const negative = mantissa.startsWith('-');
  const unsigned = mantissa.replace(/^[+-]/, '');
  const [intPart, fracPart = ''] = unsigned.split('.');
  let digits = intPart + fracPart;
  let point = intPart.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits = digits + '0'.repeat(point - digits.length);
  const result = `${digits.slice(0, point) || '0'}.${digits.slice(point)}`;
  return negative ? `-${result}` : result;
}
