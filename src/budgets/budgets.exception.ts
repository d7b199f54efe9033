import { ConnectorException } from '../common/connector.exception';

export enum BudgetsExceptionCode {
  SubmissionNotFound = 'submission_not_found',
  /** The event is not allowed from the submission's status. */
  TransitionRefused = 'transition_refused',
  /** Another request changed the submission first. */
  ChangedMeanwhile = 'changed_meanwhile',
  /** The project has another open submission, or got one at the same moment. */
  ProjectBusy = 'project_busy',
  HasProblems = 'has_problems',
  NothingToRewrite = 'nothing_to_rewrite',
  UnlockRefused = 'unlock_refused',
  AlreadyUnlocked = 'already_unlocked',
  NotRemappable = 'not_remappable',
  /** Separation of duties: the sender may not accept. */
  SenderMayNotAccept = 'sender_may_not_accept',
  MayNotRetrieve = 'may_not_retrieve',
  /** A webhook or poll found the budget the last submission holds: nothing to create. */
  BudgetUnchanged = 'budget_unchanged',
  NoReconciliationReport = 'no_reconciliation_report',
}

/** What the budgets module refuses, and why. */
export class BudgetsException extends ConnectorException<BudgetsExceptionCode> {}

/**
 * The submission was not where the request expected it: another request (or worker) moved it
 * first, or it was never in a status the event may leave. Workers treat this as "someone else
 * got there; nothing to do".
 */
export function movedOnMeanwhile(error: unknown): error is BudgetsException {
  return (
    error instanceof BudgetsException &&
    (error.code === BudgetsExceptionCode.TransitionRefused || error.code === BudgetsExceptionCode.ChangedMeanwhile)
  );
}
