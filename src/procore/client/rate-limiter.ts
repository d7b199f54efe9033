import { RateLimitHeaders } from './http-headers';

export interface RateLimiterOptions {
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Requests kept in hand: wait for the reset once `remaining` drops to this. */
  reserve: number;
  /** Longest wait for a reset; a longer one throws {@link RateLimitWaitTooLong}. */
  maxWaitMs: number;
  /** Slack added after the reset instant (Reset has one-second resolution). */
  marginMs: number;
  onWait?: (waitMs: number) => void;
}

export class RateLimitWaitTooLong extends Error {
  constructor(readonly resetAtMs: number) {
    super(`rate limit resets at ${new Date(resetAtMs).toISOString()}`);
  }
}

/**
 * Client-side pacing from Procore's `X-Rate-Limit-*` headers, shared by every concurrent call of
 * one client. Each request takes a permit with `acquire()` and returns it with `release()`
 * (passing the headers of its response). The limiter:
 * - counts requests sent since the last headers, so concurrent calls do not overdraw the window;
 * - when the budget is spent, holds callers until the window resets;
 * - before anything is known, lets one request probe while others wait for its headers, so a
 *   burst of concurrent first calls cannot exceed a small spike limit;
 * - reads a response without headers as "no limit in force".
 * It is conservative: a request in flight is counted as not yet seen by the server.
 */
export class RateLimiter {
  private mode: 'unknown' | 'unlimited' | 'limited' = 'unknown';
  private limit = 0;
  private remaining = 0;
  /** Reset of the current window (our clock); undefined after a reset until the next headers arrive. */
  private resetAtMs?: number;
  /** The current window as the server names it. */
  private window?: number;
  private inFlight = 0;
  private waiters: Array<() => void> = [];
  private totalWaitMs = 0;

  constructor(private readonly options: RateLimiterOptions) {}

  /** Milliseconds spent waiting for a window to reset, summed over all callers. */
  get waitedMs(): number {
    return this.totalWaitMs;
  }

  /** What the limiter currently believes, for logs and tests. */
  snapshot(): { mode: string; limit: number; remaining: number; resetAtMs?: number; inFlight: number } {
    return {
      mode: this.mode,
      limit: this.limit,
      remaining: this.remaining,
      resetAtMs: this.resetAtMs,
      inFlight: this.inFlight,
    };
  }

  async acquire(): Promise<void> {
    for (;;) {
      const now = this.options.now();
      if (this.mode === 'limited' && this.resetAtMs !== undefined && now >= this.resetAtMs + this.options.marginMs) {
        // A fresh window: full budget, its reset time unknown until the next response.
        this.remaining = this.limit;
        this.resetAtMs = undefined;
      }
      if (this.mode === 'unlimited') return this.take(false);
      const freshWindowSpent =
        this.mode === 'limited' && this.resetAtMs === undefined && this.remaining <= this.options.reserve;
      if (this.mode === 'unknown' || freshWindowSpent) {
        // Nothing (current) known: one probe at a time.
        if (this.inFlight === 0) return this.take(false);
        await this.nextRelease();
        continue;
      }
      if (this.remaining > this.options.reserve) return this.take(true);
      const resetAtMs = this.resetAtMs as number;
      const waitMs = resetAtMs + this.options.marginMs - now;
      if (waitMs > this.options.maxWaitMs) throw new RateLimitWaitTooLong(resetAtMs);
      this.options.onWait?.(waitMs);
      this.totalWaitMs += waitMs;
      await this.options.sleep(waitMs);
    }
  }

  /** Returns a permit. `headers`: the response's rate-limit headers; `null`: a response without
   * them; `undefined`: no response at all (network error). `retryAtMs`: a 429's `Retry-After` (our
   * clock): every caller waits until then, whatever Reset says, then the window counts as fresh. */
  release(headers: RateLimitHeaders | null | undefined, retryAtMs?: number): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    if (headers) this.observe(headers);
    else if (headers === null && this.mode === 'unknown') this.mode = 'unlimited';
    if (retryAtMs !== undefined) {
      this.mode = 'limited';
      this.limit = Math.max(this.limit, 1);
      this.remaining = 0;
      this.resetAtMs = retryAtMs;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private observe(headers: RateLimitHeaders): void {
    const estimate = Math.max(0, headers.remaining - this.inFlight);
    // Windows are told apart by the server's own name for them (its Reset), not by our translation
    // of it, which varies by a few milliseconds from one response to the next.
    const window = headers.window ?? headers.resetAtMs;
    if (this.mode === 'limited' && this.resetAtMs !== undefined && this.window !== undefined) {
      if (window < this.window) return; // late answer from an older window
      if (window === this.window) {
        // Same window: answers arrive out of order; never let one raise the budget.
        this.limit = headers.limit;
        this.remaining = Math.min(this.remaining, estimate);
        return;
      }
    }
    this.mode = 'limited';
    this.limit = headers.limit;
    this.remaining = estimate;
    this.resetAtMs = headers.resetAtMs;
    this.window = window;
  }

  private take(counted: boolean): void {
    if (counted) this.remaining -= 1;
    this.inFlight += 1;
  }

  private nextRelease(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
