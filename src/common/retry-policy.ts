import { DelegateBackoff, handleType, IRetryBackoffContext, retry } from 'cockatiel';

/**
 * The one retry policy of the connector: the Procore client, the Spectrum client and the queue's
 * job backoff all wait `backoffDelay` between attempts, and the two clients run their attempts
 * through `withRetries` (cockatiel's retry loop).
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Cap of the first wait; it doubles with every retry, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
}

/**
 * `full`: a uniform wait in [0, cap) — callers of one server spread out best (the clients).
 * `half`: a uniform wait in [cap/2, cap) — never "again at once" (the queue's jobs).
 */
export type Jitter = 'full' | 'half';

/** The wait before retry number `retry` (1 for the first retry): exponential, capped, with jitter. */
export function backoffDelay(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  retry: number,
  random: () => number = Math.random,
  jitter: Jitter = 'full',
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return jitter === 'half' ? Math.round(cap * (0.5 + random() * 0.5)) : Math.floor(random() * cap);
}

/**
 * Thrown by an attempt that wants another one: after `delayMs` (the backoff, or what the server
 * asked for, e.g. `Retry-After`). `reason` says what went wrong, for the log; `error` is what the
 * caller gets if no attempt is left.
 */
export class RetryLater extends Error {
  constructor(
    readonly delayMs: number,
    readonly reason: string,
    readonly error: unknown,
  ) {
    super(reason);
    this.name = 'RetryLater';
  }
}

/**
 * Runs `attempt` (numbered from 1) until it returns or throws anything but {@link RetryLater}; a
 * RetryLater waits its delay, calls `onRetry`, and tries again — at most `attempts` times in all,
 * then the last RetryLater's `error` is thrown. The attempt decides what is worth retrying and how
 * long to wait, because that depends on the answer (a 429's `Retry-After`, a non-idempotent POST
 * that must not be sent twice, the identical fault every time); the loop, the waiting and the
 * counting are cockatiel's.
 */
export async function withRetries<T>(
  attempts: number,
  attempt: (attempt: number) => Promise<T>,
  onRetry?: (later: RetryLater, retry: number) => void,
): Promise<T> {
  const policy = retry(handleType(RetryLater), {
    maxAttempts: Math.max(0, attempts - 1),
    backoff: new DelegateBackoff((context: IRetryBackoffContext<unknown>) => ('error' in context.result ? (context.result.error as RetryLater).delayMs : 0)),
  });
  if (onRetry) {
    policy.onRetry((event) => {
      if ('error' in event && event.error instanceof RetryLater) onRetry(event.error, event.attempt);
    });
  }
  try {
    return await policy.execute(({ attempt: retries }) => attempt(retries + 1));
  } catch (error) {
    throw error instanceof RetryLater ? error.error : error;
  }
}
