import { SpectrumError, SpectrumRetriesExhaustedError } from './spectrum.errors';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  /** Cap of the first backoff; it doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 8000 };

/** Exponential backoff with full jitter: a uniform wait in [0, min(max, base·2^retry)). */
export function backoffDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  return Math.floor(random() * cap);
}

export interface RetryHooks {
  onRetry?: (error: SpectrumError, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

/**
 * Runs `operation` until it succeeds, fails permanently, or the attempts are spent. Transient
 * SpectrumErrors are retried; anything else is rethrown at once. When the attempts are spent the
 * error is a (transient) SpectrumRetriesExhaustedError, noting whether every attempt got the
 * identical answer.
 */
export async function withRetries<T>(
  service: string,
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const sleep = hooks.sleep ?? defaultSleep;
  const attempts = Math.max(1, policy.attempts);
  const signatures: Array<string | undefined> = [];
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!(error instanceof SpectrumError) || !error.transient) throw error;
      signatures.push(error.signature);
      if (attempt >= attempts) {
        const identical = signatures[0] !== undefined && signatures.every((s) => s === signatures[0]);
        throw new SpectrumRetriesExhaustedError(attempt, error, identical && attempts > 1, service);
      }
      const delay = backoffDelayMs(policy, attempt - 1, hooks.random);
      hooks.onRetry?.(error, attempt, delay);
      if (delay > 0) await sleep(delay);
    }
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
