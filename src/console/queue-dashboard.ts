import { Inject, Injectable } from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullAdapter } from '@bull-board/api/bullAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bull';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { QueueName } from '../queue/queue.contract';
import { QUEUES } from '../queue/queue.tokens';
import { AuthFailureLimiter, TooManyRequests } from '../security/rate-limits';
import { can } from '../users/permissions';
import type { User } from '../users/user.entity';
import { UserRepository } from '../users/user.repository';
import { ConsoleSessions } from './console-sessions.service';
import { readCookie } from './cookies';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';
const BEARER = /^Bearer\s+(\S+)\s*$/i;
const READS = new Set(['GET', 'HEAD']);

/**
 * Bull Board over every queue, read-only (no retry, clean or delete: the pending-work sweeper owns
 * the queues' repair), for admins: an API token of an admin (`Authorization: Bearer`) or the
 * console session of an admin. Anything but GET and HEAD is refused, so the session cookie cannot
 * be used to change anything from another site. Mounted by the bootstrap at /admin/queues.
 */
@Injectable()
export class QueueDashboard {
  constructor(
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
    private readonly users: UserRepository,
    private readonly sessions: ConsoleSessions,
    private readonly limiter: AuthFailureLimiter,
  ) {}

  /** The guard and Bull Board's router, to mount at QUEUE_DASHBOARD_PATH. */
  handlers(): RequestHandler[] {
    const serverAdapter = new ExpressAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
    createBullBoard({
      queues: [...this.queues.values()].map((queue) => new BullAdapter(queue, { readOnlyMode: true })),
      // @bull-board/express ships its own copy of @bull-board/api's types (same shape, other version).
      serverAdapter: serverAdapter as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
      options: { uiConfig: { boardTitle: 'Connector queues' } },
    });
    return [(request, response, next) => void this.guard(request, response, next), serverAdapter.getRouter() as RequestHandler];
  }

  private async guard(request: Request, response: Response, next: NextFunction): Promise<void> {
    const refuse = (statusCode: number, error: string, message: string) => response.status(statusCode).json({ statusCode, error, message });
    if (!READS.has(request.method)) {
      response.setHeader('Allow', 'GET, HEAD');
      return void refuse(405, 'Method Not Allowed', 'The queue dashboard is read-only');
    }
    const client = request.ip ?? 'unknown';
    try {
      this.limiter.assertAllowed(client);
      const user = await this.userOf(request);
      if (!user) {
        await this.limiter.failed(client);
        return void refuse(401, 'Unauthorized', 'Sign in to the console as an admin, or send an admin API token as "Authorization: Bearer <token>"');
      }
      if (!can(user, 'admin')) return void refuse(403, 'Forbidden', 'The queue dashboard needs ERP permission admin');
      next();
    } catch (error) {
      if (error instanceof TooManyRequests) {
        const retryAfter = (error as { retryAfter?: number }).retryAfter;
        if (retryAfter) response.setHeader('Retry-After', String(retryAfter));
        return void refuse(429, 'Too Many Requests', error.message);
      }
      next(error);
    }
  }

  /** The admin behind the request: its bearer token when it sends one, else its console session. */
  private async userOf(request: Request): Promise<User | null> {
    const bearer = BEARER.exec(request.headers.authorization ?? '');
    if (bearer) return (await this.users.findUsableToken(bearer[1]))?.user ?? null;
    return (await this.sessions.resolve(readCookie(request, this.sessions.cookieName)))?.user ?? null;
  }
}
