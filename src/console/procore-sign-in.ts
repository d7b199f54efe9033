import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/** Who signed in at Procore: GET /rest/v1.0/me ("Show User Info": id, login, name). */
export interface ProcoreIdentity {
  id: string;
  login: string | null;
  name: string | null;
}

export class ProcoreSignInError extends Error {}

export const CALLBACK_PATH = '/console/auth/procore/callback';

/**
 * "Sign in with Procore": the OAuth 2.0 authorization-code flow against PROCORE_LOGIN_URL with the
 * app of PROCORE_OAUTH_CLIENT_ID. The access token is used once, to ask Procore who signed in, and
 * is then dropped: the console keeps its own session, never a Procore token.
 */
@Injectable()
export class ProcoreSignIn {
  private readonly logger = new Logger('ConsoleSignIn');

  constructor(private readonly config: AppConfig) {}

  get enabled(): boolean {
    return !!this.config.procore.oauth;
  }

  get redirectUri(): string {
    return `${this.config.publicUrl}${CALLBACK_PATH}`;
  }

  authorizeUrl(state: string): string {
    const oauth = this.required();
    const url = new URL(`${this.config.procore.loginUrl}/oauth/authorize`);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', oauth.clientId);
    url.searchParams.set('redirect_uri', this.redirectUri);
    url.searchParams.set('state', state);
    return url.toString();
  }

  /** Exchanges the code for a token and asks Procore who it belongs to. */
  async identify(code: string): Promise<ProcoreIdentity> {
    const oauth = this.required();
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      client_id: oauth.clientId,
      client_secret: oauth.clientSecret,
      redirect_uri: this.redirectUri,
    });
    const tokenResponse = await this.call(`${this.config.procore.loginUrl}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: body.toString(),
    });
    if (!tokenResponse.ok) {
      throw new ProcoreSignInError(`Procore did not accept the sign-in (HTTP ${tokenResponse.status} from /oauth/token). Try again.`);
    }
    const token = (await tokenResponse.json().catch(() => null)) as { access_token?: unknown } | null;
    if (!token || typeof token.access_token !== 'string' || !token.access_token) {
      throw new ProcoreSignInError('Procore answered the sign-in without an access token. Try again.');
    }
    const meResponse = await this.call(`${this.config.procore.apiUrl}/rest/v1.0/me`, {
      headers: { authorization: `Bearer ${token.access_token}`, accept: 'application/json' },
    });
    if (!meResponse.ok) throw new ProcoreSignInError(`Procore would not say who signed in (HTTP ${meResponse.status} from /rest/v1.0/me).`);
    return parseIdentity(await meResponse.text());
  }

  private required(): { clientId: string; clientSecret: string } {
    if (!this.config.procore.oauth) throw new ProcoreSignInError('Sign in with Procore is not configured (PROCORE_OAUTH_CLIENT_ID).');
    return this.config.procore.oauth;
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(this.config.procore.timeoutMs) });
    } catch (error) {
      this.logger.warn(`Sign in with Procore: ${new URL(url).pathname} could not be reached: ${(error as Error).message}`);
      throw new ProcoreSignInError('Procore could not be reached to complete the sign-in. Try again in a moment.');
    }
  }
}

/** The user id as text (as the connector stores Procore ids). */
export function parseIdentity(text: string): ProcoreIdentity {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ProcoreSignInError('Procore answered /rest/v1.0/me with something that is not JSON.');
  }
  const me = body as { id?: unknown; login?: unknown; name?: unknown } | null;
  const id =
    typeof me?.id === 'number' && Number.isSafeInteger(me.id) ? String(me.id) : typeof me?.id === 'string' ? me.id.trim() : undefined;
  if (!id || !/^[1-9]\d{0,18}$/.test(id)) throw new ProcoreSignInError('Procore answered /rest/v1.0/me without a user id.');
  return {
    id,
    login: typeof me?.login === 'string' ? me.login : null,
    name: typeof me?.name === 'string' ? me.name : null,
  };
}
