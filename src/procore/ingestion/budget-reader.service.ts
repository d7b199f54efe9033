import { Injectable } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { BudgetSource, needsCostCodeList } from '../mapping/budget-mapping';
import { ProcoreClient } from '../client/procore-client';
import { ProcoreApiError } from '../client/procore-errors';
import { BudgetChangedWhileReadError, IngestionError } from './ingestion-errors';

export interface BudgetRead {
  source: BudgetSource;
  viewId: number;
}

/**
 * Reads one project's budget from Procore: the project, the budget view (PROCORE_BUDGET_VIEW_ID or
 * the project's first), every detail row (⌈lines / per_page⌉ pages) and the company's categories.
 * Cost codes are read only when a detail row does not carry its code as text (it normally does).
 * The revised estimate is the view column PROCORE_REVISED_COLUMN names (mapping/budget-mapping.ts).
 * The public API names no budget creator (budget line items carry no `created_by`), so nothing
 * here reads one.
 */
@Injectable()
export class BudgetReader {
  constructor(
    private readonly client: ProcoreClient,
    private readonly config: AppConfig,
  ) {}

  /** Whether the project's budget is locked in Procore. */
  async isLocked(projectId: number): Promise<boolean> {
    return (await this.notFoundAs(this.client.getBudgetLock(projectId), projectNotFound(projectId))).locked;
  }

  async read(projectId: number): Promise<BudgetRead> {
    const [project, view, lineItemTypes] = await Promise.all([
      this.notFoundAs(this.client.getProject(projectId), projectNotFound(projectId)),
      this.viewOf(projectId),
      this.client.listLineItemTypes(),
    ]);
    const viewId = view.id;
    const lines = await this.notFoundAs(
      this.client.listDetailRows(viewId, projectId),
      `Budget view ${viewId} was not found in Procore project ${projectId}` + (this.config.procore.budgetViewId ? ' (PROCORE_BUDGET_VIEW_ID)' : ''),
    );
    if (!lines.length) throw new IngestionError(`The budget of Procore project ${projectId} (budget view ${viewId}) has no lines; there is nothing to send`);
    const costCodes = needsCostCodeList(lines) ? await this.client.listCostCodes(projectId) : undefined;
    return {
      source: { project, lines, lineItemTypes, costCodes, view, revisedColumn: this.config.procore.revisedColumn },
      viewId,
    };
  }

  /**
   * Reads the budget again and compares: a budget someone changed while it was read (a line gone
   * from page 1 while page 3 was read, an amount edited on a page already read) would otherwise be
   * stored mixed. Throws BudgetChangedWhileReadError (transient: tried again later) when the two
   * reads differ.
   */
  async confirmUnchanged(projectId: number, fingerprint: string, fingerprintOf: (read: BudgetRead) => string): Promise<void> {
    const again = fingerprintOf(await this.read(projectId));
    if (again !== fingerprint) {
      throw new BudgetChangedWhileReadError(`The budget of Procore project ${projectId} changed while it was read; it is read again shortly`);
    }
  }

  /** The configured view (its name unread), or the project's first. */
  private async viewOf(projectId: number): Promise<{ id: number; name: string | null }> {
    if (this.config.procore.budgetViewId) return { id: this.config.procore.budgetViewId, name: null };
    const views = await this.notFoundAs(this.client.listBudgetViews(projectId), projectNotFound(projectId));
    if (!views.length) throw new IngestionError(`Procore project ${projectId} has no budget views; create one, or set PROCORE_BUDGET_VIEW_ID`);
    return { id: views[0].id, name: views[0].name };
  }

  private async notFoundAs<T>(call: Promise<T>, message: string): Promise<T> {
    try {
      return await call;
    } catch (error) {
      if (error instanceof ProcoreApiError && error.status === 404) throw new IngestionError(message);
      throw error;
    }
  }
}

function projectNotFound(projectId: number): string {
  return `Procore project ${projectId} was not found, or the connector's service account cannot see it`;
}
