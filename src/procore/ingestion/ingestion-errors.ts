import { IntegrationError, isTransient } from '../../common/connector.exception';
import { ProcoreApiError, ProcoreAuthError, ProcoreError } from '../client/procore-errors';
import { BudgetDataError } from '../mapping/budget-mapping';

export { isTransient };

/** A budget the connector cannot ingest, for a reason a person can act on. Not retried. */
export class IngestionError extends IntegrationError {
  readonly transient = false;
}

/** Worth trying again soon, for a reason of the connector's own (not Procore's answer). */
export class TransientIngestionError extends IntegrationError {
  readonly transient = true;
}

/**
 * Two reads of the budget in a row differed: someone was changing it while it was read, so the
 * read may mix versions (a line skipped as pages shifted, an amount from before and after). Never
 * stored; tried again later (docs/architecture.md, "Changed while read").
 */
export class BudgetChangedWhileReadError extends TransientIngestionError {}

/** The project's lock could not be had in time, or its connection dropped (ProjectLock). */
export class ProcoreWorkLockError extends TransientIngestionError {}

/** Trying again would meet the same answer (Procore's, or the budget's data). */
export function isPermanent(error: unknown): boolean {
  return (error instanceof IntegrationError && !error.transient) || error instanceof BudgetDataError;
}

/** One sentence for the submission's ingest error or a webhook event's outcome. */
export function describeFailure(error: unknown): string {
  if (error instanceof IngestionError || error instanceof BudgetDataError || error instanceof TransientIngestionError) return error.message;
  if (error instanceof ProcoreAuthError) {
    return `Procore refused the connector's credentials; check PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET (${error.message})`;
  }
  if (error instanceof ProcoreApiError && error.status === 403) {
    return `The connector's Procore service account may not read this (${error.message})`;
  }
  if (error instanceof ProcoreError) return `Could not read the budget from Procore: ${error.message}`;
  return `Ingestion failed unexpectedly: ${(error as Error)?.message ?? String(error)}`;
}
