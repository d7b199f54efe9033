import { CanActivate, ExecutionContext, Injectable, createParamDecorator } from '@nestjs/common';
import type { Request } from 'express';
import { readCookie } from './cookies';
import { ActiveSession, ConsoleSessions, sameSecret } from './console-sessions.service';

/** No live session: pages redirect to sign-in (and back), script calls get a 401. */
export class SignInRequired extends Error {
  constructor(readonly reason: 'none' | 'ended') {
    super('Sign in to the console');
  }
}

/** A state change without the session's CSRF token. */
export class CsrfRefused extends Error {
  constructor() {
    super('This form has expired or did not come from the console. Reload the page and try again.');
  }
}

export type ConsoleRequest = Request & { consoleSession?: ActiveSession };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every console page and action needs a live session; every state change (any method but GET and
 * HEAD) also needs the session's CSRF token, as the `_csrf` form field or the `X-CSRF-Token`
 * header. The session cookie is SameSite=Lax as a second line, not the only one.
 */
@Injectable()
export class ConsoleAuthGuard implements CanActivate {
  constructor(private readonly sessions: ConsoleSessions) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<ConsoleRequest>();
    const secret = readCookie(request, this.sessions.cookieName);
    const session = await this.sessions.resolve(secret);
    if (!session) throw new SignInRequired(secret ? 'ended' : 'none');
    if (!SAFE_METHODS.has(request.method)) {
      const body = request.body as Record<string, unknown> | undefined;
      const sent = typeof body?._csrf === 'string' ? body._csrf : request.header('x-csrf-token');
      if (!sameSecret(sent, session.csrfToken)) throw new CsrfRefused();
    }
    request.consoleSession = session;
    // As the bearer guard does: per-user limits (the preview's fan-out limit) count this user.
    (request as ConsoleRequest & { user?: unknown }).user = session.user;
    return true;
  }
}

/** The session the guard found. */
export const Session = createParamDecorator((_: unknown, context: ExecutionContext): ActiveSession => {
  return context.switchToHttp().getRequest<ConsoleRequest>().consoleSession!;
});
