import { IntegrationError } from '../../common/connector.exception';

/**
 * Errors of the Procore client. Every one says whether it is `transient` (worth retrying later,
 * e.g. from a queue job) and names the call; none carries a token, secret or request body.
 */
export abstract class ProcoreError extends IntegrationError {}

/** Procore answered with an HTTP error (after the retries the status allows). */
export class ProcoreApiError extends ProcoreError {
  readonly transient: boolean;

  constructor(
    readonly status: number,
    readonly method: string,
    /** Path without query, e.g. `/rest/v1.0/projects/1001`. */
    readonly path: string,
    /** Procore's own error text from the response body, when it sent one. */
    readonly procoreMessage?: string,
    /** Set for 429/503 when Procore said when to come back. */
    readonly retryAfterMs?: number,
  ) {
    super(
      `Procore ${method} ${path} failed with ${status}${statusText(status)}` +
        (procoreMessage ? `: ${procoreMessage}` : ''),
    );
    this.transient = status === 408 || status === 429 || status >= 500;
  }
}

/** The login host refused the client credentials. Fix PROCORE_CLIENT_ID / _SECRET. */
export class ProcoreAuthError extends ProcoreApiError {
  override readonly transient = false;
}

/** Waiting for the rate-limit window would take longer than allowed (e.g. the hourly bucket is
 * spent); nothing was sent. Retry at `retryAt`. */
export class ProcoreRateLimitError extends ProcoreError {
  readonly transient = true;

  constructor(
    readonly retryAt: Date,
    readonly method: string,
    readonly path: string,
  ) {
    super(
      `Procore rate limit exhausted for ${method} ${path}; the limit resets at ${retryAt.toISOString()}`,
    );
  }
}

/** No HTTP answer: connection refused or reset, DNS failure, or timeout (after retries). */
export class ProcoreNetworkError extends ProcoreError {
  readonly transient = true;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly timedOut: boolean,
    cause: unknown,
  ) {
    super(
      `Procore ${method} ${path} ${timedOut ? 'timed out' : `failed: ${describeCause(cause)}`}`,
      { cause },
    );
  }
}

/** Procore answered 2xx with something that is not what the API documents. Not retried: the
 * same request would get the same answer. */
export class ProcoreDataError extends ProcoreError {
  readonly transient = false;

  constructor(
    readonly method: string,
    readonly path: string,
    /** What was wrong, e.g. `items[3].original_budget_amount: expected an amount, got "abc"`. */
    readonly problem: string,
  ) {
    super(`Procore ${method} ${path} returned unexpected data: ${problem}`);
  }
}

/**
 * Procore's error text from a response body. Procore uses several shapes: `{"errors": "…"}`,
 * `{"errors": ["…"]}`, `{"errors": {"field": ["…"]}}`, `{"error": "…", "error_description":
 * "…"}`, `{"error": {"message": "…"}}`, `{"message": "…"}`.
 */
export function procoreErrorMessage(body: unknown): string | undefined {
  const parts: string[] = [];
  const collect = (value: unknown, prefix = ''): void => {
    if (typeof value === 'string' && value.trim()) parts.push(prefix + value.trim());
    else if (Array.isArray(value)) value.forEach((v) => collect(v, prefix));
    else if (value && typeof value === 'object') {
      const object = value as Record<string, unknown>;
      if (typeof object.message === 'string') collect(object.message, prefix);
      else for (const [key, v] of Object.entries(object)) collect(v, `${prefix}${key} `);
    }
  };
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const object = body as Record<string, unknown>;
    if (object.errors !== undefined) collect(object.errors);
    else if (typeof object.error === 'string') {
      collect(object.error);
      collect(object.error_description);
    } else if (object.error !== undefined) collect(object.error);
    else collect(object.message);
  } else if (typeof body === 'string' && !/^\s*</.test(body) && body.length <= 200) {
    // Plain text ("Service Unavailable"), not an HTML error page.
    collect(body);
  }
  if (!parts.length) return undefined;
  const text = parts.join('; ');
  return text.length > 500 ? `${text.slice(0, 497)}...` : text;
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ? ` ${STATUS_TEXT[status]}` : '';
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = (cause as { cause?: unknown }).cause;
    const code = inner && typeof inner === 'object' ? (inner as { code?: unknown }).code : undefined;
    return typeof code === 'string' ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}
