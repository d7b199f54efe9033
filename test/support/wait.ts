/**
 * The one poll of the test kit: every suite, stand-in check and the demo wait with it (no other
 * deadline loop in test/; the chaos lab's shared-deadline waits excepted).
 */
export interface WaitOptions<T> {
  /** How long before giving up; generous by default, since a loaded machine is slow, not wrong. */
  timeoutMs?: number;
  /** Between probes. */
  intervalMs?: number;
  /** When the probe's answer is the awaited one; by default, when it is truthy. */
  until?: (value: T) => boolean;
}

/**
 * Probes until the answer is the awaited one (truthy, or `until`) and returns it. Timing out
 * throws, naming `what` and the last answer seen. A number for `options` is the timeout.
 */
export function waitFor<T>(probe: () => T | Promise<T>, what: string, options: WaitOptions<T> & { until: (value: T) => boolean }): Promise<T>;
export function waitFor<T>(probe: () => T | Promise<T>, what: string, options?: number | Omit<WaitOptions<T>, 'until'>): Promise<Truthy<T>>;
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, options: number | WaitOptions<T> = {}): Promise<T> {
  const { timeoutMs = 30_000, intervalMs = 50, until = (value: T) => !!value } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe();
    if (until(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen ${describe(last)}`);
    await delay(intervalMs);
  }
}

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

export const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function describe(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? v.toString() : v));
    return text === undefined ? String(value) : text.length > 500 ? `${text.slice(0, 500)}…` : text;
  } catch {
    return String(value);
  }
}
