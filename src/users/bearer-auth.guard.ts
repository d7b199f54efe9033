import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthFailureLimiter, TooManyRequests } from '../security/rate-limits';
import { PUBLIC_ROUTE, REQUIRED_PERMISSION } from '../common/auth.decorators';
import { can, Permission, REFUSALS } from './permissions';
import { TokenLookup } from './token-lookup';
import { UserRepository } from './user.repository';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

interface GuardedRequest {
  headers: Record<string, string | undefined>;
  ip?: string;
  user?: unknown;
  /** When the guard first saw the request (`performance.now()`): reads kept in memory must show every change committed before it. */
  arrivedAt?: number;
}

/**
 * Every route needs `Authorization: Bearer <token>` unless marked @Public(). A client (IP address)
 * that failed too often in the last minute is refused with 429 before its token is looked at.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly users: UserRepository,
    private readonly tokens: TokenLookup,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const request = context.switchToHttp().getRequest<GuardedRequest>();
    request.arrivedAt ??= performance.now();
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const response = context.switchToHttp().getResponse<{ setHeader(name: string, value: string): void }>();
    const client = request.ip ?? 'unknown';
    try {
      this.limiter.assertAllowed(client);
      const match = BEARER.exec(request.headers.authorization ?? '');
      if (!match) {
        await this.limiter.failed(client);
        throw new UnauthorizedException('Send an API token as "Authorization: Bearer <token>"');
      }
      // A revoked or expired token, or a deactivated user, is refused at once (TokenLookup keeps nothing stale).
      const token = await this.tokens.find(match[1], request.arrivedAt);
      if (!token) {
        await this.limiter.failed(client);
        throw new UnauthorizedException('The API token is not valid, has expired or has been revoked');
      }
      // The user entity is mapped only if something reads it (a decision, the fan-out limit): reads answered from memory never do.
      let user: unknown;
      Object.defineProperty(request, 'user', {
        configurable: true,
        enumerable: true,
        get: () => (user ??= token.entity().user),
        set: (value: unknown) => (user = value),
      });
      if (!token.lastUsedAt || Date.now() - token.lastUsedAt.getTime() > 60_000) await this.users.touchToken(token.id);
      const permission = this.reflector.getAllAndOverride<Permission | undefined>(REQUIRED_PERMISSION, targets);
      if (permission && !can(token.access, permission)) throw new ForbiddenException(REFUSALS[permission]);
      return true;
    } catch (error) {
      const retryAfter = (error as { retryAfter?: number }).retryAfter;
      if (error instanceof TooManyRequests && retryAfter) response.setHeader('Retry-After', String(retryAfter));
      throw error;
    }
  }
}
