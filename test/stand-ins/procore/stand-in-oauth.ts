import { randomBytes } from 'node:crypto';
import { procoreFixture } from '../../fixtures/procore';
import type { StandInUser } from './procore-stand-in.types';
import { conform, TOKEN_TEMPLATE } from './stand-in-json';

/** The key set of Show User Info, from test/fixtures/procore/show-me.json. */
const ME_TEMPLATE = procoreFixture('show-me').response.body as Record<string, unknown>;

/**
 * "Sign in with Procore" as the stand-in plays it: the OAuth 2.0 authorization-code grant of
 * Procore's guide (github.com/procore/documentation @ 1e0a75583f9f64323825ab9e1152c2ae2202dbe8,
 * oauth/oauth_auth_grant_flow.md, and oauth/oauth_endpoints.md):
 *
 *   GET  /oauth/authorize?client_id=…&response_type=code&redirect_uri=…[&state=…]
 *        → the person signs in at Procore → 302 to redirect_uri?code=…[&state=…]
 *   POST /oauth/token  grant_type=authorization_code, client_id, client_secret, code, redirect_uri
 *        (form or JSON) → the token answer of the guide (access_token, token_type, expires_in, …)
 *   GET  /rest/v1.0/me  with that token → the user's `id`, `login` (email address) and `name`
 *        (test/fixtures/procore/show-me.json names the sources). No Procore-Company-Id header is needed.
 *
 * Inferred, not published: Procore's login screen itself. The stand-in has none: the person who
 * "signs in" is the one a test chose (`signInAs`), else it shows a page listing the company's users
 * to pick from (the demo uses that). Codes are single use and live 10 minutes; a code is bound to
 * the redirect URI it was issued for.
 */
export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface OAuthReply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Sent as is (HTML), not as JSON. */
  html?: string;
}

const CODE_TTL_MS = 10 * 60_000;

export class StandInOAuth {
  private app?: OAuthApp;
  private signedIn: number | null = null;
  private readonly codes = new Map<string, { userId: number; redirectUri: string; expiresAt: number }>();
  private readonly userTokens = new Map<string, { userId: number; expiresAt: number }>();

  constructor(
    private readonly users: () => StandInUser[],
    private readonly tokenTtlSeconds: () => number,
  ) {}

  /** The Procore app of the connector's console (Developer Portal: client id, secret, redirect URI). */
  registerApp(app: OAuthApp): void {
    this.app = { ...app };
  }

  /** Who is signed in at Procore in the browser that comes to /oauth/authorize; null: nobody (a picker page). */
  signInAs(userId: number | null): void {
    this.signedIn = userId;
  }

  reset(): void {
    this.app = undefined;
    this.signedIn = null;
    this.codes.clear();
    this.userTokens.clear();
  }

  authorize(url: URL): OAuthReply {
    const app = this.app;
    const clientId = url.searchParams.get('client_id');
    const redirectUri = url.searchParams.get('redirect_uri');
    if (!app || clientId !== app.clientId) return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client.' } };
    if (redirectUri !== app.redirectUri) {
      return { status: 400, body: { error: 'invalid_redirect_uri', error_description: 'The redirect uri included is not valid.' } };
    }
    if (url.searchParams.get('response_type') !== 'code') {
      return this.back(redirectUri, { error: 'unsupported_response_type' }, url.searchParams.get('state'));
    }
    const chosen = url.searchParams.get('stand_in_user');
    const userId = chosen !== null ? Number(chosen) : this.signedIn;
    if (userId === null) return { status: 200, html: this.picker(url) };
    const user = this.users().find((candidate) => candidate.id === userId && candidate.is_active);
    if (!user) return this.back(redirectUri, { error: 'access_denied' }, url.searchParams.get('state'));
    const code = randomBytes(16).toString('hex');
    this.codes.set(code, { userId: user.id, redirectUri, expiresAt: Date.now() + CODE_TTL_MS });
    return this.back(redirectUri, { code }, url.searchParams.get('state'));
  }

  /** The authorization-code grant of POST /oauth/token; null for other grants (the service account's). */
  token(form: Record<string, string>, now: number): OAuthReply | null {
    if (form.grant_type !== 'authorization_code') return null;
    const app = this.app;
    if (!app || form.client_id !== app.clientId || form.client_secret !== app.clientSecret) {
      return { status: 401, body: { error: 'invalid_client', error_description: 'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.' } };
    }
    const issued = form.code ? this.codes.get(form.code) : undefined;
    if (form.code) this.codes.delete(form.code);
    if (!issued || issued.expiresAt <= Date.now() || issued.redirectUri !== form.redirect_uri) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.' } };
    }
    const token = randomBytes(24).toString('hex');
    const ttl = this.tokenTtlSeconds();
    this.userTokens.set(token, { userId: issued.userId, expiresAt: Date.now() + ttl * 1000 });
    return {
      status: 200,
      headers: { 'Cache-Control': 'no-store' },
      body: {
        ...conform(TOKEN_TEMPLATE, { access_token: token, token_type: 'bearer', expires_in: ttl, created_at: Math.floor(now / 1000) }, 'a token'),
        refresh_token: randomBytes(24).toString('hex'),
      },
    };
  }

  /** GET /rest/v1.0/me for a token of this grant; null when the token is not one (the caller answers). */
  me(authorization: string | undefined): OAuthReply | null {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const grant = match ? this.userTokens.get(match[1]) : undefined;
    if (!grant) return null;
    if (grant.expiresAt <= Date.now()) return { status: 401, body: { errors: 'The access token expired or is invalid' } };
    const user = this.users().find((candidate) => candidate.id === grant.userId);
    if (!user) return { status: 401, body: { errors: 'The access token expired or is invalid' } };
    return { status: 200, body: conform(ME_TEMPLATE, { id: user.id, login: user.email_address, name: user.name }, 'Show User Info') };
  }

  private back(redirectUri: string, params: Record<string, string>, state: string | null): OAuthReply {
    const target = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) target.searchParams.set(key, value);
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, headers: { Location: target.toString() } };
  }

  /** Stands in for Procore's login screen: pick the person who signs in. */
  private picker(url: URL): string {
    const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
    const links = this.users()
      .filter((user) => user.is_active)
      .map((user) => {
        const target = new URL(url.toString());
        target.searchParams.set('stand_in_user', String(user.id));
        return `<li><a href="${escape(target.pathname + target.search)}">${escape(user.name)}</a> — ${escape(user.email_address)}${user.job_title ? `, ${escape(user.job_title)}` : ''}</li>`;
      })
      .join('\n');
    return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Procore stand-in: sign in</title></head>
<body><h1>Procore (stand-in): sign in as</h1><ul>${links}</ul></body></html>`;
  }
}
