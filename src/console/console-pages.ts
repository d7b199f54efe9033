import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { can } from '../users/permissions';
import { ActiveSession, ConsoleSessions } from './console-sessions.service';
import { ConsoleViews } from './console-views';

/** Renders console pages with the layout's common parts: who is signed in, navigation, CSRF token, flash. */
@Injectable()
export class ConsolePages {
  readonly views: ConsoleViews;

  constructor(
    config: AppConfig,
    private readonly sessions: ConsoleSessions,
  ) {
    this.views = new ConsoleViews({ timeZone: config.schedules.dailySummaryTz });
  }

  /** A page; a flash message the session carried is shown once and cleared. */
  async page(session: ActiveSession | null, view: string, model: Record<string, unknown>): Promise<string> {
    if (session?.flash) await this.sessions.clearFlash(session.id);
    return this.render(session, view, model);
  }

  render(session: ActiveSession | null, view: string, model: Record<string, unknown>): string {
    const user = session?.user;
    return this.views.page(view, {
      ...model,
      session: session
        ? {
            name: user!.name,
            email: user!.email,
            permission: user!.erpPermission.replace(/_/g, ' '),
            isAdmin: can(user!, 'admin'),
            csrf: session.csrfToken,
          }
        : null,
      flash: session?.flash ?? null,
      nav: model.nav ?? null,
    });
  }

  fragment(view: string, model: Record<string, unknown>): string {
    return this.views.fragment(view, model);
  }
}
