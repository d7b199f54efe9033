import { withRetries } from '../../common/retry-policy';
import { parseRateLimitHeaders } from './http-headers';
import { causeCode, isTimeout, notSent, ProcoreHttp, RequestKind, tryJson } from './procore-http';
import { ProcoreApiError, ProcoreDataError, ProcoreNetworkError, ProcoreRateLimitError, procoreErrorMessage } from './procore-errors';
import { Check, ShapeError } from './procore-schema';
import { ProcoreTokenProvider } from './procore-token.provider';
import { RateLimiter, RateLimitWaitTooLong } from './rate-limiter';
import { SharedBudgetWaitTooLong, SharedRateBudget } from './shared-rate-budget';

type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PATCH';
type QueryValue = string | number | boolean | undefined | Array<string | number>;
export type Query = Record<string, QueryValue>;

export interface CallSpec {
  method: HttpMethod;
  path: string;
  query?: Query;
  json?: unknown;
  kind?: RequestKind;
  /** Safe to send again after an ambiguous failure (timeout, 5xx). Default: not for POST. */
  idempotent?: boolean;
  /** The exchange may carry secrets: never quote either body. */
  sensitive?: boolean;
}

export interface CallResult {
  status: number;
  headers: Headers;
  body: unknown;
  spec: CallSpec;
}

/**
 * One Procore API call: paced by the rate limiter (and, with several processes, the budget they
 * share: a request is reserved from it after the local permit, and every answer's headers are
 * published to it), authenticated by the token provider, retried on
 * transient failures (network errors and timeouts when safe to repeat, 408/5xx for idempotent
 * calls, 429 and 503 always, waiting what the answer asks), and once with a new token after a 401.
 * Every call sends `Authorization: Bearer …` and `Procore-Company-Id`.
 */
export class ProcoreTransport {
  constructor(
    private readonly http: ProcoreHttp,
    private readonly tokens: ProcoreTokenProvider,
    private readonly limiter: RateLimiter,
    private readonly shared?: SharedRateBudget,
  ) {}

  call(spec: CallSpec): Promise<CallResult> {
    const where = `${spec.method} ${spec.path}${describeQuery(spec.query)}`;
    // One new token per call: a second 401, even after other failures, is an error.
    const call = { reauthenticated: false };
    return withRetries(
      this.http.options.maxAttempts,
      (attempt) => this.attempt(spec, attempt, call),
      (later, retry) => this.http.noteRetry(where, later, retry),
    );
  }

  /** Attempt number `failures` (from 1): should it fail, that is how many failures there were. */
  private async attempt(spec: CallSpec, failures: number, call: { reauthenticated: boolean }): Promise<CallResult> {
    const { http } = this;
    const { options } = http;
    const idempotent = spec.idempotent ?? spec.method !== 'POST';
    const last = failures >= options.maxAttempts;
    for (;;) {
      const { token, exchange } = await this.send(spec);
      const response = exchange.response;
      if (exchange.failure !== undefined || !response) {
        const timedOut = isTimeout(exchange.failure);
        const error = new ProcoreNetworkError(spec.method, spec.path, timedOut, exchange.failure);
        if (!(idempotent || notSent(exchange.failure)) || last) throw error;
        throw http.retryLater(timedOut ? 'timed out' : `failed (${causeCode(exchange.failure)})`, failures, error);
      }

      const status = response.status;
      if (status >= 200 && status < 300) return { status, headers: response.headers, body: parseBody(exchange.text, spec), spec };

      const message = spec.sensitive ? undefined : procoreErrorMessage(tryJson(exchange.text));
      if (status === 401 && !call.reauthenticated) {
        // A refused token is replaced once, and sent again at once (not counted as a failure).
        call.reauthenticated = true;
        http.counters.reauthentications += 1;
        http.counters.retries += 1;
        this.tokens.invalidate(token);
        http.logger.warn(`Procore ${spec.method} ${spec.path}${describeQuery(spec.query)} answered 401; fetching a new access token and retrying once`);
        continue;
      }
      if (status === 429) http.counters.rateLimited += 1;
      const retryable = status === 429 || status === 503 || (idempotent && (status >= 500 || status === 408));
      if (!retryable) throw new ProcoreApiError(status, spec.method, spec.path, message);

      const delay = http.retryDelay(status, response.headers, failures);
      if (last) throw new ProcoreApiError(status, spec.method, spec.path, message, delay);
      if (delay > options.maxWaitMs) {
        if (status === 429) throw new ProcoreRateLimitError(new Date(options.now() + delay), spec.method, spec.path);
        throw new ProcoreApiError(status, spec.method, spec.path, message, delay);
      }
      throw http.retryLater(`answered ${status}`, failures, new ProcoreApiError(status, spec.method, spec.path, message, delay), delay);
    }
  }

  /** One exchange under a rate-limit permit, with the current token. */
  private async send(spec: CallSpec): Promise<{ token: string; exchange: Awaited<ReturnType<ProcoreHttp['exchange']>> }> {
    const { http } = this;
    try {
      await this.limiter.acquire();
    } catch (error) {
      if (error instanceof RateLimitWaitTooLong) throw new ProcoreRateLimitError(new Date(error.resetAtMs), spec.method, spec.path);
      throw error;
    }
    if (this.shared) {
      try {
        await this.shared.reserve(http.options.maxWaitMs);
      } catch (error) {
        this.limiter.release(undefined);
        if (error instanceof SharedBudgetWaitTooLong) throw new ProcoreRateLimitError(new Date(error.resetAtMs), spec.method, spec.path);
        throw error;
      }
    }
    let token: string;
    try {
      token = await this.tokens.accessToken();
    } catch (error) {
      this.limiter.release(undefined);
      throw error;
    }
    http.count(spec.kind ?? 'other');
    const headers: Record<string, string> = {
      Accept: 'application/json',
      Authorization: `Bearer ${token}`,
      'Procore-Company-Id': String(http.options.companyId),
    };
    if (http.options.userAgent) headers['User-Agent'] = http.options.userAgent;
    if (spec.json !== undefined) headers['Content-Type'] = 'application/json';
    const exchange = await http.exchange(urlFor(http.options.apiUrl, spec.path, spec.query), {
      method: spec.method,
      headers,
      body: spec.json === undefined ? undefined : JSON.stringify(spec.json),
    });
    const response = exchange.response;
    const ok = response !== undefined && response.status >= 200 && response.status < 300;
    const limits = response ? parseRateLimitHeaders(response.headers, http.options.now()) : undefined;
    const retryAtMs = response?.status === 429 ? http.retryAt(response.headers) : undefined;
    this.limiter.release(response ? (limits ?? (ok ? null : undefined)) : undefined, retryAtMs);
    this.shared?.observe(limits, retryAtMs);
    return { token, exchange };
  }
}

/** The body checked against the shape the endpoint documents; a mismatch is a ProcoreDataError. */
export function validate<T>(check: Check<T>, result: CallResult): T {
  try {
    return check(result.body, '');
  } catch (error) {
    if (error instanceof ShapeError) {
      const problem = result.spec.sensitive ? `${error.at || 'body'}: expected ${error.expected}` : error.message;
      throw new ProcoreDataError(result.spec.method, result.spec.path, problem);
    }
    throw error;
  }
}

function parseBody(text: string, spec: CallSpec): unknown {
  if (!text.trim()) return null;
  try {
    return JSON.parse(text);
  } catch {
    const excerpt = spec.sensitive ? '' : `: ${JSON.stringify(text.slice(0, 60))}`;
    throw new ProcoreDataError(spec.method, spec.path, `the body is not JSON (${text.length} characters${excerpt})`);
  }
}

function urlFor(base: string, path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) value.forEach((item) => params.append(key, String(item)));
    else params.append(key, String(value));
  }
  const search = params.toString();
  return `${base}${path}${search ? `?${search}` : ''}`;
}

function describeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && !Array.isArray(value))
    .map(([key, value]) => `${key}=${String(value)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}
