/**
 * Exact decimal arithmetic for the stand-in's amounts: values are bigint millionths, so sums of
 * amounts with up to six decimals are exact (Procore may hold more than two decimals).
 */
const SCALE = 1_000_000n;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?$/;

export type Scaled = bigint;

export function toScaled(value: string | number): Scaled {
  const text = typeof value === 'number' ? numberText(value) : value.trim().replace(/,/g, '');
  const match = DECIMAL.exec(text);
  if (!match || (!match[2] && !match[3])) throw new Error(`stand-in: not an amount: ${JSON.stringify(value)}`);
  const fraction = (match[3] ?? '').padEnd(6, '0');
  if (fraction.length > 6 && /[1-9]/.test(fraction.slice(6))) {
    throw new Error(`stand-in: more than six decimals: ${JSON.stringify(value)}`);
  }
  const scaled = BigInt(match[2] || '0') * SCALE + BigInt(fraction.slice(0, 6));
  return match[1] === '-' ? -scaled : scaled;
}

/** Decimal text with at least two decimals and no trailing zeros beyond them: `"1234.50"`,
 * `"1234.565"`, `"-12.05"`. */
export function fromScaled(value: Scaled): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / SCALE;
  let fraction = (abs % SCALE).toString().padStart(6, '0').replace(/0+$/, '');
  fraction = fraction.padEnd(2, '0');
  return `${negative && abs !== 0n ? '-' : ''}${whole}.${fraction}`;
}

/** The amount as a JSON number, the way Procore's detail rows send it. */
export function toJsonNumber(value: Scaled): number {
  return Number(fromScaled(value));
}

export function sumScaled(...values: Scaled[]): Scaled {
  return values.reduce((total, value) => total + value, 0n);
}

function numberText(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`stand-in: not an amount: ${value}`);
  return value.toFixed(6);
}
