import { Controller, Get, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { UsersException, UsersExceptionCode } from '../users/users.exception';
import { WEBHOOK_EVENT_STATUSES, WebhookEventStatus } from '../procore/webhook-event.entity';
import { WebhookEventQueries } from '../procore/webhooks/webhook-event-queries.service';
import { Public } from '../common/auth.decorators';
import { can, REFUSALS } from '../users/permissions';
import { ConsoleAuthGuard, Session } from './console-auth.guard';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ActiveSession } from './console-sessions.service';

const PER_PAGE = 50;

/** Procore webhook deliveries (admins): by default those kept aside as unusable, with the reason. */
@ApiExcludeController()
@Public() // Console sessions, not bearer tokens: ConsoleAuthGuard.
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console/webhooks')
export class WebhooksPageController {
  constructor(
    private readonly queries: WebhookEventQueries,
    private readonly pages: ConsolePages,
  ) {}

  @Get()
  async list(@Session() session: ActiveSession, @Query() query: Record<string, unknown>, @Res() response: Response) {
    if (!can(session.user, 'admin')) throw new UsersException(UsersExceptionCode.NotAllowed, REFUSALS.admin);
    const status: WebhookEventStatus | undefined =
      query.status === 'all' ? undefined : (WEBHOOK_EVENT_STATUSES as readonly string[]).includes(String(query.status)) ? (query.status as WebhookEventStatus) : 'unusable';
    const page = typeof query.page === 'string' && /^\d{1,5}$/.test(query.page) && Number(query.page) > 0 ? Number(query.page) : 1;
    const result = await this.queries.list({ status, page, perPage: PER_PAGE });
    const pages = Math.max(1, Math.ceil(result.total / PER_PAGE));
    const base = `/console/webhooks?status=${status ?? 'all'}`;
    response.type('html').send(
      await this.pages.page(session, 'webhooks', {
        title: 'Webhook deliveries',
        nav: 'webhooks',
        events: result.data,
        total: result.total,
        filters: [...WEBHOOK_EVENT_STATUSES, 'all'].map((key) => ({ key, href: `/console/webhooks?status=${key}`, active: key === (status ?? 'all') })),
        page,
        pages,
        previous: page > 1 ? `${base}&page=${page - 1}` : null,
        next: page < pages ? `${base}&page=${page + 1}` : null,
      }),
    );
  }
}
