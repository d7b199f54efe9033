import { SubmissionStateMachine } from '../budgets/submission-state-machine';
import { SubmissionEvent, SubmissionStatus } from '../budgets/submission-status';
import { ACTION_PERMISSIONS, barredAsSender, BudgetAction, can, mayRetrieve } from '../users/permissions';
import { User } from '../users/user.entity';
import { REMAPPABLE_STATUSES } from '../budgets/submission-status';

/** What the console offers on a budget: the state machine's rules and the API's permissions, nothing of its own. */
export interface OfferedActions {
  accept: boolean;
  reject: boolean;
  retry: boolean;
  retrieve: boolean;
  acknowledge: boolean;
  unlock: boolean;
  remap: boolean;
  any: boolean;
}

export interface ActionSubject {
  status: SubmissionStatus;
  sentById: string | null;
  unlocked: boolean;
  /** Null when the reconciliation gate allows an unlock. */
  unlockRefusal: string | null;
  /** The snapshot holds every mapping input (older snapshots do not). */
  remappable: boolean;
  /** REQUIRE_INDEPENDENT_APPROVER is on. */
  requireIndependentApprover: boolean;
}

const EVENTS: Partial<Record<BudgetAction, SubmissionEvent>> = {
  accept: 'accept',
  reject: 'reject',
  retry: 'retry',
  retrieve: 'retrieve',
  acknowledge: 'acknowledge',
};

export function offeredActions(user: User, subject: ActionSubject): OfferedActions {
  const allowed = (action: BudgetAction) => {
    const event = EVENTS[action];
    return (!event || SubmissionStateMachine.allows(event, subject.status)) && can(user, ACTION_PERMISSIONS[action]);
  };
  const actions = {
    accept: allowed('accept') && !barredAsSender(subject.requireIndependentApprover, user, subject.sentById),
    reject: allowed('reject'),
    retry: allowed('retry'),
    retrieve: allowed('retrieve') && mayRetrieve(user, subject.sentById),
    acknowledge: allowed('acknowledge'),
    unlock: subject.status === 'synced' && !subject.unlocked && subject.unlockRefusal === null && allowed('unlock'),
    remap: REMAPPABLE_STATUSES.includes(subject.status) && subject.remappable && allowed('remap'),
  };
  return { ...actions, any: Object.values(actions).some(Boolean) };
}

/** "accepted", "rejected", … for saying who changed a budget first. */
export const PAST_TENSE: Record<string, string> = {
  accept: 'accepted',
  reject: 'rejected',
  retry: 'retried',
  retrieve: 'retrieved',
  acknowledge: 'acknowledged the variance of',
  supersede: 'superseded',
  exported: 'exported',
  exportFailed: 'failed to export',
  reconciledSynced: 'reconciled',
  reconciledOutOfSync: 'reconciled',
  ingested: 'ingested',
  ingestFailed: 'failed to ingest',
  remap: 'remapped',
};
