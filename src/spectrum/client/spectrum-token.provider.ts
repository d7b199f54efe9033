import { SpectrumAuthError, SpectrumHttpError, SpectrumResponseFormatError } from './spectrum.errors';
import { excerpt, SpectrumHttpTransport } from './spectrum-http.transport';

export interface SpectrumTokenOptions {
  /** `https://host:8482/connect/token` */
  tokenUrl: string;
  clientId: string;
  clientSecret: string;
  scope?: string;
  /** Refresh this long before the token expires (capped at a tenth of its lifetime). */
  refreshMarginMs?: number;
  now?: () => number;
}

interface CachedToken {
  value: string;
  expiresAt: number;
  refreshAt: number;
}

/**
 * Spectrum "Enhanced Authentication": a client-credentials token, cached and refreshed before it
 * expires. Concurrent callers share one request; a token the server refused is dropped once and
 * replaced. The secret and the token never appear in messages.
 */
export class SpectrumTokenProvider {
  private current?: CachedToken;
  private pending?: Promise<CachedToken>;
  private readonly now: () => number;

  constructor(
    private readonly transport: SpectrumHttpTransport,
    private readonly options: SpectrumTokenOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** A valid access token, fetching one if none is cached or it is about to expire. */
  async getToken(): Promise<string> {
    const token = this.current;
    const now = this.now();
    if (token && now < token.refreshAt) return token.value;
    if (token && now < token.expiresAt) {
      // Due for refresh but still valid: keep using it while one refresh runs in the background;
      // if that refresh fails, the next call starts another.
      this.refresh().catch(() => undefined);
      return token.value;
    }
    return (await this.refresh()).value;
  }

  /** The server refused `token` (HTTP 401): forget it so the next call fetches a new one. */
  invalidate(token: string): void {
    if (this.current?.value === token) this.current = undefined;
  }

  private refresh(): Promise<CachedToken> {
    if (!this.pending) {
      this.pending = this.fetchToken().finally(() => {
        this.pending = undefined;
      });
    }
    return this.pending;
  }

  private async fetchToken(): Promise<CachedToken> {
    const form = new URLSearchParams({
      client_id: this.options.clientId,
      client_secret: this.options.clientSecret,
      scope: this.options.scope ?? 'spectrumapi',
      grant_type: 'client_credentials',
    }).toString();
    const answer = await this.transport.post(
      this.options.tokenUrl,
      form,
      { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      'token',
    );
    if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
      throw new SpectrumAuthError(
        `the token endpoint refused the client credentials (HTTP ${answer.status}${oauthError(answer.body)}); ` +
          'check SPECTRUM_CLIENT_ID and SPECTRUM_CLIENT_SECRET',
        answer.status,
        'token',
      );
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw new SpectrumHttpError(answer.status, excerpt(answer.body), 'token');
    }
    let parsed: { access_token?: unknown; expires_in?: unknown };
    try {
      parsed = JSON.parse(answer.body) as typeof parsed;
    } catch {
      throw new SpectrumResponseFormatError('the token endpoint did not answer JSON', true, 'token');
    }
    if (typeof parsed.access_token !== 'string' || parsed.access_token === '') {
      throw new SpectrumResponseFormatError('the token endpoint answered without an access_token', true, 'token');
    }
    const lifetimeMs = Math.max(1, Number(parsed.expires_in) || 3600) * 1000;
    const margin = Math.min(this.options.refreshMarginMs ?? 60_000, lifetimeMs / 10);
    const fetchedAt = this.now();
    const token = {
      value: parsed.access_token,
      expiresAt: fetchedAt + lifetimeMs,
      refreshAt: fetchedAt + lifetimeMs - margin,
    };
    this.current = token;
    return token;
  }
}

/** The OAuth `error` code only (never the request, which holds the secret). */
function oauthError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? `: ${parsed.error.slice(0, 80)}` : '';
  } catch {
    return '';
  }
}
