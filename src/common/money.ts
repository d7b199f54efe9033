/**
 * Exact money: amounts are bigint cents everywhere inside the connector and are parsed from and
 * formatted to decimal text only at the edges. Binary floating point never touches an amount.
 */
export type Cents = bigint;

export class MoneyFormatError extends Error {
  constructor(
    readonly input: unknown,
    readonly reason = 'not an amount',
  ) {
    super(`${reason}: ${describeInput(input)}`);
  }
}

export interface ParsedMoney {
  cents: Cents;
  /** True when the input had more than two decimals and was rounded half away from zero. */
  rounded: boolean;
}

/** Longer text is refused before anything else looks at it. */
export const MONEY_MAX_LENGTH = 64;
/** The largest exponent (`1e30`, `5E-30`) taken; beyond it no budget amount lies. */
export const MONEY_MAX_EXPONENT = 30;

/**
 * Decimal text, anchored, linear (no nested or overlapping quantifiers): a sign; an integer part
 * either with thousands separators in groups of three (`1,234,567`) or without (`1234567`); a
 * fraction; an exponent of at most 4 digits (bounded further below).
 */
const DECIMAL = /^([+-])?(?:(\d{1,3}(?:,\d{3})+)|(\d*))(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;

/**
 * Parses decimal text (`"1234.5"`, `".00"`, `"-12.05"`, `"1,234,567.89"`, `"1.5E-1"`) or a JSON
 * number into cents. Strict: the mantissa needs a digit (`"e5"`, `"."` are refused), thousands
 * separators only in groups of three and never with an exponent (`"1,23"` is refused), an exponent
 * of at most ±{@link MONEY_MAX_EXPONENT}, text of at most {@link MONEY_MAX_LENGTH} characters.
 * More than two decimals are rounded half away from zero and reported.
 */
export function parseMoney(input: string | number): ParsedMoney {
  let text: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new MoneyFormatError(input);
    // The shortest text that round-trips the double: what the JSON carried for any amount with
    // at most 15 significant digits.
    text = String(input);
  } else if (typeof input === 'string') {
    if (input.length > MONEY_MAX_LENGTH) throw new MoneyFormatError(input, `longer than ${MONEY_MAX_LENGTH} characters`);
    text = input.trim();
  } else {
    throw new MoneyFormatError(input);
  }
  const match = DECIMAL.exec(text);
  if (!match) throw new MoneyFormatError(input);
  const [, sign, grouped, plain, fraction = '', exponentText] = match;
  const whole = grouped !== undefined ? grouped.replace(/,/g, '') : (plain ?? '');
  if (whole === '' && fraction === '') throw new MoneyFormatError(input, 'no digits');
  if (grouped !== undefined && exponentText !== undefined) throw new MoneyFormatError(input);
  const exponent = exponentText === undefined ? 0 : Number(exponentText);
  if (Math.abs(exponent) > MONEY_MAX_EXPONENT) throw new MoneyFormatError(input, 'exponent out of range');

  // Digits and the position of the decimal point, shifted by the exponent (at most 30 places).
  let digits = whole + fraction;
  let point = whole.length + exponent;
  if (point < 0) {
    digits = '0'.repeat(-point) + digits;
    point = 0;
  }
  if (point > digits.length) digits += '0'.repeat(point - digits.length);
  const integerPart = digits.slice(0, point) || '0';
  const fractionPart = digits.slice(point);

  let cents = BigInt(integerPart) * 100n + BigInt((fractionPart + '00').slice(0, 2));
  const rest = fractionPart.slice(2);
  const rounded = /[1-9]/.test(rest);
  if (rest.length > 0 && rest[0] >= '5') cents += 1n;
  if (sign === '-') cents = -cents;
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

/** The input for a message: at most 40 characters, quoted. */
function describeInput(input: unknown): string {
  if (typeof input !== 'string') return typeof input === 'number' ? String(input) : typeof input;
  return JSON.stringify(input.length > 40 ? `${input.slice(0, 37)}...` : input);
}
