import { Body, Controller, Get, HttpCode, Post, Query, Req, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { AuthFailureLimiter, TooManyRequests } from '../security/rate-limits';
import { Public } from '../common/auth.decorators';
import { can } from '../users/permissions';
import { ApiToken } from '../users/api-token.entity';
import { User } from '../users/user.entity';
import { UserRepository } from '../users/user.repository';
import { ConsoleAuthGuard } from './console-auth.guard';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ConsoleSessions, randomSecret, sameSecret } from './console-sessions.service';
import { clearCookie, readCookie, writeCookie } from './cookies';
import { ProcoreSignIn, ProcoreSignInError } from './procore-sign-in';
import { safeNext, signInPath } from './safe-next';

/** Guards the sign-in forms against login CSRF (a double-submit value) and carries the OAuth state. */
const SIGN_IN_COOKIE = 'connector_signin';
const OAUTH_COOKIE = 'connector_oauth';
const TEN_MINUTES = 600;

const REASONS: Record<string, string> = {
  ended: 'Your session has ended. Sign in again to continue.',
  'signed-out': 'You are signed out.',
};

/**
 * Sign-in to the console: with Procore (OAuth authorization code; the Procore user must be linked
 * to an active connector user by Procore user id — an email match never grants a session) or with
 * an API token. Both end in a console session in PostgreSQL and an httpOnly cookie.
 */
@ApiExcludeController()
@Public() // The console has its own sessions; the API's bearer guard does not apply.
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class SignInController {
  constructor(
    private readonly users: UserRepository,
    private readonly sessions: ConsoleSessions,
    private readonly pages: ConsolePages,
    private readonly procore: ProcoreSignIn,
    private readonly audit: AuditEventRepository,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  @Get('sign-in')
  async form(@Query() query: Record<string, unknown>, @Req() request: Request, @Res() response: Response) {
    const next = safeNext(query.next);
    if (await this.sessions.resolve(readCookie(request, this.sessions.cookieName))) return response.redirect(303, next);
    const message = typeof query.reason === 'string' ? REASONS[query.reason] : undefined;
    this.renderForm(request, response, 200, next, message ? { kind: query.reason === 'ended' ? 'error' : 'notice', text: message } : null);
  }

  @Post('sign-in/token')
  async withToken(@Body() body: Record<string, unknown>, @Req() request: Request, @Res() response: Response) {
    const next = safeNext(body.next);
    if (!sameSecret(typeof body._signin === 'string' ? body._signin : undefined, readCookie(request, SIGN_IN_COOKIE))) {
      return this.renderForm(request, response, 403, next, { kind: 'error', text: 'The sign-in form expired. Try again.' });
    }
    // Failed token sign-ins count with the API's failed authentications (RATE_LIMIT_AUTH_FAILURES).
    const client = request.ip ?? 'unknown';
    try {
      this.limiter.assertAllowed(client);
      const token = typeof body.token === 'string' ? body.token.trim() : '';
      const record = token ? await this.users.findUsableToken(token) : null;
      if (!record) {
        await this.limiter.failed(client);
        return this.renderForm(request, response, 401, next, { kind: 'error', text: 'That API token is not valid, has expired or has been revoked.' });
      }
      return await this.signInWithToken(record, request, response, next);
    } catch (error) {
      if (!(error instanceof TooManyRequests)) throw error;
      const retryAfter = (error as TooManyRequests & { retryAfter?: number }).retryAfter;
      if (retryAfter) response.setHeader('Retry-After', String(retryAfter));
      return this.renderForm(request, response, 429, next, { kind: 'error', text: describeThrottle(error) });
    }
  }

  private async signInWithToken(record: ApiToken, request: Request, response: Response, next: string) {
    if (!can(record.user, 'view')) {
      return this.renderForm(request, response, 403, next, { kind: 'error', text: noPermission(record.user) });
    }
    await this.start(response, record.user, 'token', next, record.id);
  }

  @Get('auth/procore')
  startProcore(@Query() query: Record<string, unknown>, @Res() response: Response) {
    if (!this.procore.enabled) return response.redirect(303, signInPath(safeNext(query.next)));
    const state = randomSecret();
    writeCookie(response, OAUTH_COOKIE, `${state} ${safeNext(query.next)}`, {
      secure: this.sessions.secureCookies,
      path: '/console/auth',
      maxAge: TEN_MINUTES,
    });
    response.redirect(302, this.procore.authorizeUrl(state));
  }

  @Get('auth/procore/callback')
  async procoreCallback(@Query() query: Record<string, unknown>, @Req() request: Request, @Res() response: Response) {
    const [state, cookieNext] = (readCookie(request, OAUTH_COOKIE) ?? '').split(' ');
    clearCookie(response, OAUTH_COOKIE, { secure: this.sessions.secureCookies, path: '/console/auth' });
    const next = safeNext(cookieNext);
    const fail = (status: number, text: string) => this.renderForm(request, response, status, next, { kind: 'error', text });
    if (!this.procore.enabled) return fail(404, 'Sign in with Procore is not configured here; sign in with an API token.');
    if (typeof query.state !== 'string' || !sameSecret(query.state, state)) {
      return fail(400, 'The Procore sign-in could not be matched to this browser (it expired or was started elsewhere). Try again.');
    }
    if (typeof query.error === 'string') return fail(401, 'Procore did not sign you in (the request was declined).');
    if (typeof query.code !== 'string' || !query.code || query.code.length > 2000) return fail(400, 'Procore sent no sign-in code. Try again.');
    let identity;
    try {
      identity = await this.procore.identify(query.code);
    } catch (error) {
      if (error instanceof ProcoreSignInError) return fail(502, error.message);
      throw error;
    }
    // By Procore user id of a linked user only: an email match never grants a session.
    const user = await this.users.findByProcoreId(identity.id);
    const who = identity.name ?? identity.login ?? `Procore user ${identity.id}`;
    if (!user) {
      return fail(403, `${who} is not linked to a connector user. The Procore user sync links people by their Procore account; ask an admin.`);
    }
    if (!can(user, 'view')) return fail(403, noPermission(user));
    await this.start(response, user, 'procore', next, null);
  }

  @Post('sign-out')
  @HttpCode(303)
  @UseGuards(ConsoleAuthGuard)
  async signOut(@Req() request: Request, @Res() response: Response) {
    await this.sessions.destroy(readCookie(request, this.sessions.cookieName));
    clearCookie(response, this.sessions.cookieName, { secure: this.sessions.secureCookies });
    response.redirect(303, signInPath(undefined, 'signed-out'));
  }

  private async start(response: Response, user: User, method: 'token' | 'procore', next: string, apiTokenId: string | null): Promise<void> {
    const secret = await this.sessions.create(user, method, apiTokenId);
    // Ended sessions are refused whether or not their rows remain; a sign-in tidies them away.
    await this.sessions.deleteExpired();
    await this.audit.record({ actor: { user }, action: 'console.sign_in', note: method });
    writeCookie(response, this.sessions.cookieName, secret, { secure: this.sessions.secureCookies });
    clearCookie(response, SIGN_IN_COOKIE, { secure: this.sessions.secureCookies, path: '/console' });
    response.redirect(303, next);
  }

  private renderForm(
    request: Request,
    response: Response,
    status: number,
    next: string,
    flash: { kind: 'notice' | 'error'; text: string } | null,
  ): void {
    let value = readCookie(request, SIGN_IN_COOKIE);
    if (!value || value.length > 100) {
      value = randomSecret();
      writeCookie(response, SIGN_IN_COOKIE, value, { secure: this.sessions.secureCookies, path: '/console', maxAge: 3600 });
    }
    const html = this.pages.render(null, 'sign-in', {
      title: 'Sign in',
      next,
      signInValue: value,
      procore: this.procore.enabled,
      procoreUrl: `/console/auth/procore${next !== '/console/budgets' ? `?next=${encodeURIComponent(next)}` : ''}`,
      message: flash,
    });
    response.status(status).type('html').send(html);
  }
}

function noPermission(user: User): string {
  return user.active
    ? `${user.name} has no permission to view budgets in the connector (ERP permission "${user.erpPermission}"). Ask an admin.`
    : `${user.name} is deactivated in the connector. Ask an admin.`;
}

function describeThrottle(error: TooManyRequests): string {
  const body = error.getResponse() as { message?: string } | string;
  return typeof body === 'string' ? body : (body.message ?? 'Too many failed sign-ins; wait a minute and try again.');
}
