import { backoffDelay, RetryLater } from '../../common/retry-policy';
import { parseRateLimitHeaders, parseRetryAfter, serverClockOffset } from './http-headers';
import { ProcoreLogger, ResolvedProcoreClientOptions } from './procore-client.options';

/**
 * What the Procore token provider and transport share: one HTTP exchange with its timeout, the
 * request counters, and the retry waits (backoff, or what a 429/503 asks for).
 */

export interface ProcoreClientStats {
  /** HTTP requests sent, every attempt and the token endpoint included. */
  requests: number;
  byKind: { token: number; detailRowPages: number; other: number };
  /** 429 answers received. */
  rateLimited: number;
  /** Requests sent again after a failure (re-authentication included). */
  retries: number;
  /** Calls that met a 401 and fetched a new token. */
  reauthentications: number;
  /** Time callers spent waiting for a rate-limit window to reset before sending. */
  rateLimitWaitMs: number;
}

export type RequestKind = 'token' | 'detail_rows' | 'other';
export type Counters = Omit<ProcoreClientStats, 'rateLimitWaitMs'>;

export interface Exchanged {
  response?: Response;
  text: string;
  failure?: unknown;
}

/** Reset has one-second resolution; come back a little after it. */
export const RESET_MARGIN_MS = 100;
/** Network errors after which the request certainly did not reach Procore. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export class ProcoreHttp {
  readonly counters: Counters = emptyCounters();

  constructor(
    readonly options: ResolvedProcoreClientOptions,
    readonly logger: ProcoreLogger,
  ) {}

  /** One HTTP exchange; the timeout covers the headers and the body. */
  async exchange(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<Exchanged> {
    let response: Response | undefined;
    try {
      response = await this.options.fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutMs) });
      const text = await response.text();
      return { response, text };
    } catch (failure) {
      // A body cut off mid-way counts as no answer.
      return { text: '', failure: failure ?? new Error('request failed') };
    }
  }

  count(kind: RequestKind): void {
    this.counters.requests += 1;
    if (kind === 'token') this.counters.byKind.token += 1;
    else if (kind === 'detail_rows') this.counters.byKind.detailRowPages += 1;
    else this.counters.byKind.other += 1;
  }

  resetCounters(): void {
    Object.assign(this.counters, emptyCounters());
  }

  /** Another attempt after `failures` failures: the given delay, else the backoff. */
  retryLater(what: string, failures: number, error: unknown, delay?: number): RetryLater {
    return new RetryLater(delay ?? this.backoff(failures), what, error);
  }

  /** Counts and logs a retry (the retry loop calls it before it waits). */
  noteRetry(where: string, later: RetryLater, retry: number): void {
    this.counters.retries += 1;
    this.logger.warn(`Procore ${where} ${later.reason}; retry ${retry} of ${this.options.maxAttempts - 1} in ${later.delayMs} ms`);
  }

  /**
   * Delay before retrying after an HTTP error, plus jitter: a 429 waits `Retry-After` when Procore
   * sends one, else until `X-Rate-Limit-Reset` — both measured against the response's `Date`, so a
   * server clock that differs from ours neither stretches nor shortens the wait; a 503 waits
   * `Retry-After`; otherwise exponential backoff with full jitter.
   */
  retryDelay(status: number, headers: Headers, failures: number): number {
    const jitter = this.backoff(failures);
    const now = this.options.now();
    const offset = serverClockOffset(headers.get('date'), now) ?? 0;
    const retryAfter = parseRetryAfter(headers.get('retry-after'), now, offset);
    if (status === 429) {
      if (retryAfter !== undefined) return retryAfter + jitter;
      const limits = parseRateLimitHeaders(headers, now);
      // Without any hint of when to come back, wait at least the base delay.
      if (!limits) return Math.max(jitter, this.options.baseDelayMs);
      return Math.max(0, limits.resetAtMs + RESET_MARGIN_MS - now) + jitter;
    }
    if (status === 503 && retryAfter !== undefined) {
      return retryAfter + Math.floor(this.options.random() * Math.min(this.options.baseDelayMs, 1000));
    }
    return jitter;
  }

  /** When a 429's `Retry-After` (measured against its `Date`) says to come back, on our clock. */
  retryAt(headers: Headers): number | undefined {
    const now = this.options.now();
    const after = parseRetryAfter(headers.get('retry-after'), now, serverClockOffset(headers.get('date'), now) ?? 0);
    return after === undefined ? undefined : now + after;
  }

  private backoff(failures: number): number {
    return backoffDelay(this.options, failures, this.options.random);
  }
}

export function emptyCounters(): Counters {
  return {
    requests: 0,
    byKind: { token: 0, detailRowPages: 0, other: 0 },
    rateLimited: 0,
    retries: 0,
    reauthentications: 0,
  };
}

export function tryJson(text: string): unknown {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

export function isTimeout(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}

export function causeCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : 'unknown error';
}

/** The request certainly never reached Procore, so even a POST may be sent again. */
export function notSent(error: unknown): boolean {
  return NOT_SENT_CODES.has(causeCode(error));
}
