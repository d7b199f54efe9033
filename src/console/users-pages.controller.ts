import { Body, Controller, Get, Param, Post, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '../common/auth.decorators';
import { ConnectorException, InputException, InputExceptionCode } from '../common/connector.exception';
import { ParseIdPipe } from '../common/id';
import { can, REFUSALS } from '../users/permissions';
import { ERP_PERMISSIONS, ErpPermission } from '../users/user.entity';
import { UserRepository } from '../users/user.repository';
import { UsersException, UsersExceptionCode } from '../users/users.exception';
import { presentToken, presentUser, UserChanges, UsersService } from '../users/users.service';
import { ConsoleAuthGuard, Session } from './console-auth.guard';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ActiveSession, ConsoleSessions } from './console-sessions.service';

const USERS_PER_PAGE = 50;

/**
 * Users (admins): permission, Can Push to Accounting, active, digest, API tokens. Everyone: their
 * own daily-summary subscription. Every change goes through UsersService, as the API's does.
 */
@ApiExcludeController()
@Public() // Console sessions, not bearer tokens: ConsoleAuthGuard.
@UseGuards(ConsoleAuthGuard)
@UseFilters(ConsoleExceptionFilter)
@Controller('console')
export class UsersPagesController {
  constructor(
    private readonly userRecords: UserRepository,
    private readonly users: UsersService,
    private readonly pages: ConsolePages,
    private readonly sessions: ConsoleSessions,
  ) {}

  @Get('users')
  async list(@Session() session: ActiveSession, @Query() query: Record<string, unknown>, @Res() response: Response) {
    requireAdmin(session);
    const page = typeof query.page === 'string' && /^\d{1,5}$/.test(query.page) && Number(query.page) > 0 ? Number(query.page) : 1;
    response.type('html').send(await this.pages.page(session, 'users', { title: 'Users', nav: 'users', ...(await this.model(page)) }));
  }

  @Post('users/:id')
  async update(@Session() session: ActiveSession, @Param('id', ParseIdPipe) id: string, @Body() body: Record<string, unknown>, @Res() response: Response) {
    // A non-admin gets 403, as from the API and the Users page itself (not a flash on a page they cannot open).
    requireAdmin(session);
    await this.attempt(session, async () => {
      const permission = body.erpPermission;
      if (typeof permission !== 'string' || !(ERP_PERMISSIONS as readonly string[]).includes(permission)) {
        throw new InputException(InputExceptionCode.InvalidInput, `erpPermission must be one of ${ERP_PERMISSIONS.join(', ')}`);
      }
      const changes: UserChanges = {
        erpPermission: permission as ErpPermission,
        canPushToAccounting: body.canPushToAccounting === 'on',
        subscribedToDigest: body.subscribedToDigest === 'on',
        active: body.active === 'on',
      };
      const user = await this.users.update(id, changes, session.user);
      return `Saved ${user.name}.`;
    });
    response.redirect(303, `/console/users#user-${id}`);
  }

  /** Issues a token and shows it once, on this response only (it is never stored or redirected with). */
  @Post('users/:id/tokens')
  async issueToken(@Session() session: ActiveSession, @Param('id', ParseIdPipe) id: string, @Body() body: Record<string, unknown>, @Res() response: Response) {
    requireAdmin(session);
    const label = typeof body.label === 'string' ? body.label.trim() : '';
    if (label.length > 100) throw new InputException(InputExceptionCode.InvalidInput, 'label must be 1 to 100 characters');
    const days = typeof body.expiresInDays === 'string' ? body.expiresInDays.trim() : '';
    if (days && (!/^\d{1,4}$/.test(days) || Number(days) < 1 || Number(days) > 3650)) {
      throw new InputException(InputExceptionCode.InvalidInput, 'expiresInDays must be a whole number of days from 1 to 3650, or empty for no expiry');
    }
    const user = await this.users.get(id);
    const { token } = await this.users.createToken(id, { user: session.user }, { label: label || undefined, expiresInDays: days ? Number(days) : undefined });
    response
      .status(201)
      .type('html')
      .send(await this.pages.page(session, 'users', { title: 'Users', nav: 'users', ...(await this.model(1)), issued: { token, user: user.name } }));
  }

  /** Admins revoke anyone's token; everyone may revoke their own (the API's rule). */
  @Post('users/:id/tokens/:tokenId/revoke')
  async revokeToken(
    @Session() session: ActiveSession,
    @Param('id', ParseIdPipe) id: string,
    @Param('tokenId', ParseIdPipe) tokenId: string,
    @Res() response: Response,
  ) {
    await this.attempt(session, async () => {
      this.users.assertAdminOrSelf(session.user, id);
      const token = await this.users.revokeToken(id, tokenId, { user: session.user });
      return `Token ${token.tokenPrefix}… is revoked: it no longer works, and console sessions signed in with it have ended.`;
    });
    response.redirect(303, id === session.user.id && !can(session.user, 'admin') ? '/console/me' : `/console/users#user-${id}`);
  }

  @Get('me')
  async me(@Session() session: ActiveSession, @Res() response: Response) {
    const user = presentUser(await this.users.get(session.user.id));
    const tokens = (await this.users.listTokens(session.user.id)).map((token) => presentToken(token));
    response.type('html').send(await this.pages.page(session, 'me', { title: 'My settings', nav: 'me', user, tokens, approver: can(session.user, 'decide') }));
  }

  @Post('me')
  async updateMe(@Session() session: ActiveSession, @Body() body: Record<string, unknown>, @Res() response: Response) {
    await this.attempt(session, async () => {
      const subscribed = body.subscribedToDigest === 'on';
      await this.users.update(session.user.id, { subscribedToDigest: subscribed }, session.user);
      return subscribed ? 'You will receive the daily summary.' : 'You will no longer receive the daily summary.';
    });
    response.redirect(303, '/console/me');
  }

  private async model(page: number) {
    const result = await this.users.list(page, USERS_PER_PAGE);
    const ids = result.data.map((user) => user.id);
    const tokens = await this.userRecords.tokensOfUsers(ids);
    const byUser = new Map<string, Array<ReturnType<typeof presentToken>>>();
    for (const token of tokens) byUser.set(token.user.id, [...(byUser.get(token.user.id) ?? []), presentToken(token)]);
    const pages = Math.max(1, Math.ceil(result.total / USERS_PER_PAGE));
    return {
      users: result.data.map((user) => ({
        ...user,
        tokens: byUser.get(user.id) ?? [],
        permissions: ERP_PERMISSIONS.map((value) => ({ value, label: value.replace(/_/g, ' '), selected: value === user.erpPermission })),
      })),
      page,
      pages,
      previous: page > 1 ? `/console/users?page=${page - 1}` : null,
      next: page < pages ? `/console/users?page=${page + 1}` : null,
    };
  }

  private async attempt(session: ActiveSession, run: () => Promise<string>): Promise<void> {
    try {
      await this.sessions.setFlash(session.id, 'notice', await run());
    } catch (error) {
      if (!(error instanceof ConnectorException)) throw error;
      await this.sessions.setFlash(session.id, 'error', error.message);
    }
  }
}

function requireAdmin(session: ActiveSession): void {
  if (!can(session.user, 'admin')) throw new UsersException(UsersExceptionCode.NotAllowed, REFUSALS.admin);
}
