import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config';

/**
 * PROCORE_PROJECT_IDS as a scope (docs/architecture.md, "Access"): when it is set, the connector acts on
 * those projects only — sends, webhook-driven checks and polls of any other project are refused
 * before Procore is asked anything, so nothing outside it is ever read, locked or hooked. Empty:
 * every active project, no scope.
 */
@Injectable()
export class ProjectScope {
  private readonly ids: ReadonlySet<number>;

  constructor(config: AppConfig) {
    this.ids = new Set(config.procore.projectIds);
  }

  includes(projectId: number | string): boolean {
    return this.ids.size === 0 || this.ids.has(Number(projectId));
  }

  /** Why a project outside the scope is refused, naming it (not the projects in scope). */
  refusal(projectId: number | string): string {
    return `Procore project ${projectId} is not one of the projects this connector handles (PROCORE_PROJECT_IDS); nothing was sent, read or locked`;
  }
}
