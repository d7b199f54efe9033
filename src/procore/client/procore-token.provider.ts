import { withRetries } from '../../common/retry-policy';
import { isTimeout, causeCode, ProcoreHttp, tryJson } from './procore-http';
import { ProcoreApiError, ProcoreAuthError, ProcoreDataError, ProcoreNetworkError, procoreErrorMessage } from './procore-errors';

interface CachedToken {
  value: string;
  refreshAtMs: number;
}

const TOKEN_PATH = '/oauth/token';

/**
 * OAuth 2 client credentials against Procore's login host: one token, cached until shortly before it
 * expires (its lifetime minus the refresh margin, the margin at most a tenth of the lifetime), at most one
 * token request in flight. Transient failures of the token request are retried like any call;
 * refused credentials fail at once with {@link ProcoreAuthError}. Neither the secret nor a token
 * ever appears in a message.
 */
export class ProcoreTokenProvider {
  private token?: CachedToken;
  private tokenRequest?: Promise<CachedToken>;

  constructor(private readonly http: ProcoreHttp) {}

  /** A valid access token. */
  async accessToken(): Promise<string> {
    if (this.token && this.http.options.now() < this.token.refreshAtMs) return this.token.value;
    if (!this.tokenRequest) {
      this.token = undefined;
      this.tokenRequest = this.requestToken()
        .then((token) => {
          this.token = token;
          return token;
        })
        .finally(() => {
          this.tokenRequest = undefined;
        });
    }
    return (await this.tokenRequest).value;
  }

  /** Drops the cached token if it is still the one that was refused. */
  invalidate(refused: string): void {
    if (this.token?.value === refused) this.token = undefined;
  }

  private requestToken(): Promise<CachedToken> {
    const { options } = this.http;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: options.clientId,
      client_secret: options.clientSecret,
    }).toString();
    return withRetries(
      options.maxAttempts,
      (attempt) => this.attempt(body, attempt),
      (later, retry) => this.http.noteRetry(`POST ${TOKEN_PATH}`, later, retry),
    );
  }

  /** Attempt number `failures` (from 1): should it fail, that is how many failures there were. */
  private async attempt(body: string, failures: number): Promise<CachedToken> {
    const { http } = this;
    const last = failures >= http.options.maxAttempts;
    http.count('token');
    const startedAt = http.options.now();
    const { response, text, failure } = await http.exchange(`${http.options.loginUrl}${TOKEN_PATH}`, {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (failure !== undefined || !response) {
      const timedOut = isTimeout(failure);
      const error = new ProcoreNetworkError('POST', TOKEN_PATH, timedOut, failure);
      if (last) throw error;
      throw http.retryLater(timedOut ? 'timed out' : `failed (${causeCode(failure)})`, failures, error);
    }
    const status = response.status;
    if (status >= 200 && status < 300) return this.readToken(text, startedAt);
    // OAuth error bodies (`error`, `error_description`) never contain the secret.
    const message = procoreErrorMessage(tryJson(text));
    if (status === 400 || status === 401 || status === 403) {
      throw new ProcoreAuthError(status, 'POST', TOKEN_PATH, message ?? 'check the Procore client id and secret');
    }
    if (status === 429) http.counters.rateLimited += 1;
    if (!(status === 429 || status === 408 || status >= 500)) throw new ProcoreApiError(status, 'POST', TOKEN_PATH, message);
    const delay = http.retryDelay(status, response.headers, failures);
    const error = new ProcoreApiError(status, 'POST', TOKEN_PATH, message, delay);
    if (last || delay > http.options.maxWaitMs) throw error;
    throw http.retryLater(`answered ${status}`, failures, error, delay);
  }

  private readToken(text: string, startedAt: number): CachedToken {
    const token = readToken(tryJson(text));
    if (typeof token === 'string') throw new ProcoreDataError('POST', TOKEN_PATH, token);
    const lifetimeMs = token.expiresIn * 1000;
    const margin = Math.min(this.http.options.tokenRefreshMarginMs, lifetimeMs / 10);
    this.http.logger.debug?.(`obtained a Procore access token valid for ${token.expiresIn} s`);
    return { value: token.accessToken, refreshAtMs: startedAt + lifetimeMs - margin };
  }
}

/** The token response, or the problem with it (never quoting a value). */
function readToken(body: unknown): { accessToken: string; expiresIn: number } | string {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the token response is not a JSON object';
  const fields = body as Record<string, unknown>;
  if (typeof fields.access_token !== 'string' || !fields.access_token) {
    return 'access_token is missing or empty';
  }
  if (typeof fields.token_type === 'string' && fields.token_type.toLowerCase() !== 'bearer') {
    return 'token_type is not "bearer"';
  }
  const expiresIn = Number(fields.expires_in);
  if (!Number.isFinite(expiresIn) || expiresIn <= 0) return 'expires_in is not a positive number of seconds';
  return { accessToken: fields.access_token, expiresIn };
}
