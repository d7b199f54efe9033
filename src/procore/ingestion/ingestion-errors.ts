import { ProcoreApiError, ProcoreAuthError, ProcoreError } from '../procore-errors';
import { BudgetDataError } from '../mapping/budget-mapping';

/** A budget the connector cannot ingest, for a reason a person can act on. Not retried. */
export class IngestionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestionError';
  }
}

/** Worth trying again later: Procore unreachable, busy, rate-limited or failing with a 5xx. */
export function isTransient(error: unknown): boolean {
  return error instanceof ProcoreError && error.transient;
}

/** Trying again would meet the same answer. */
export function isPermanent(error: unknown): boolean {
  return (error instanceof ProcoreError && !error.transient) || error instanceof IngestionError || error instanceof BudgetDataError;
}

/** One sentence for the submission's ingest error or a webhook event's outcome. */
export function describeFailure(error: unknown): string {
  if (error instanceof IngestionError || error instanceof BudgetDataError) return error.message;
  if (error instanceof ProcoreAuthError) {
    return `Procore refused the connector's credentials; check PROCORE_CLIENT_ID and PROCORE_CLIENT_SECRET (${error.message})`;
  }
  if (error instanceof ProcoreApiError && error.status === 403) {
    return `The connector's Procore service account may not read this (${error.message})`;
  }
  if (error instanceof ProcoreError) return `Could not read the budget from Procore: ${error.message}`;
  return `Ingestion failed unexpectedly: ${(error as Error)?.message ?? String(error)}`;
}
