import { backoffDelay, RetryLater, RetryPolicy, withRetries } from '../../common/retry-policy';
import { SpectrumCallsStoppedError, SpectrumError, SpectrumRetriesExhaustedError } from './spectrum.errors';

export type { RetryPolicy } from '../../common/retry-policy';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 250, maxDelayMs: 8000 };

export interface RetryHooks {
  onRetry?: (error: SpectrumError, attempt: number, delayMs: number) => void;
  /** The backoff's jitter (tests pass `() => 0` for no wait). */
  random?: () => number;
}

/**
 * Runs `operation` until it succeeds, fails permanently, or the attempts are spent, on the
 * connector's one retry policy (full-jitter backoff). Transient SpectrumErrors are retried; anything
 * else is rethrown at once. When the attempts are spent the error is a (transient)
 * SpectrumRetriesExhaustedError, noting whether every attempt got the identical answer.
 */
export function withSpectrumRetries<T>(
  service: string,
  policy: RetryPolicy,
  operation: (attempt: number) => Promise<T>,
  hooks: RetryHooks = {},
): Promise<T> {
  const attempts = Math.max(1, policy.attempts);
  const signatures: Array<string | undefined> = [];
  const attempt = async (n: number): Promise<T> => {
    try {
      return await operation(n);
    } catch (error) {
      if (!(error instanceof SpectrumError) || !error.transient || error instanceof SpectrumCallsStoppedError) throw error;
      signatures.push(error.signature);
      if (n >= attempts) {
        const identical = signatures[0] !== undefined && signatures.every((s) => s === signatures[0]);
        throw new SpectrumRetriesExhaustedError(n, error, identical && attempts > 1, service);
      }
      throw new RetryLater(backoffDelay(policy, n, hooks.random), error.message, error);
    }
  };
  return withRetries(attempts, attempt, (later, retry) => hooks.onRetry?.(later.error as SpectrumError, retry, later.delayMs));
}
