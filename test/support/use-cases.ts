import { AuditEventRepository } from '../../src/audit/audit-event.repository';
import type { AuditEntry } from '../../src/audit/actor';
import { Notifier } from '../../src/budgets/notifier';
import { Submission } from '../../src/budgets/submission.entity';
import { SubmissionChanges, SubmissionRepository } from '../../src/budgets/submission.repository';
import { SubmissionStateMachine } from '../../src/budgets/submission-state-machine';
import { SUBMISSION_STATUSES, SubmissionStatus } from '../../src/budgets/submission-status';
import { TransitionWork } from '../../src/budgets/transition-work';
import { AppConfig } from '../../src/config/app-config';
import { Outbox } from '../../src/queue/outbox';
import { JobName } from '../../src/queue/queue.contract';
import type { User } from '../../src/users/user.entity';
import { Mocked, newTestService, TestService } from './unit';

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Work a use case recorded in its outbox transaction, as a test reads it. */
export interface Recorded {
  job: JobName;
  payload: Record<string, unknown>;
  dedupeKey: string | undefined;
}

export interface UseCaseKit<T> extends TestService<T> {
  /** Puts submissions in the mocked SubmissionRepository (by id; defaults to `7`, ready_to_export). */
  given(...submissions: Array<Partial<Submission>>): Submission;
  /** A given submission's status now (what the guarded changes left). */
  statusOf(id?: string): SubmissionStatus | undefined;
  /** Work recorded through the Outbox, in order. */
  recorded(): Recorded[];
  /** Audit events recorded, in order (the transition's event and any the use case adds). */
  audited(): AuditEntry[];
}

/**
 * Every status but the ones named: the statuses a use case must refuse, spelled out in its test
 * rather than read from the transitions table (a change to the table fails a test).
 */
export function statusesBut(...allowed: SubmissionStatus[]): SubmissionStatus[] {
  return SUBMISSION_STATUSES.filter((status) => !allowed.includes(status));
}

/** An active user; `admin` and `decide` say which rights. */
export function user(id: string, rights: { admin?: boolean; decide?: boolean; view?: boolean } = { decide: true }): User {
  return {
    id,
    name: `User ${id}`,
    email: `user${id}@example.com`,
    erpPermission: rights.admin ? 'admin' : rights.decide ? 'standard' : rights.view ? 'read_only' : 'none',
    canPushToAccounting: !!(rights.admin || rights.decide),
    subscribedToDigest: true,
    active: true,
    localOverrides: [],
    createdAt: new Date(0),
    updatedAt: new Date(0),
  } as User;
}

/**
 * A use case built with the real SubmissionStateMachine and TransitionWork over mocked
 * repositories, Outbox and Notifier: no database, no Redis. The mocked SubmissionRepository keeps
 * the given submissions and applies the guarded status change as PostgreSQL would (`where status =
 * :from`, and `unlocked_at is null` with the notUnlocked guard), so a test sees the transition
 * refused, the audit event, and the work the transitions table declares, as calls on the mocks.
 */
export function newUseCase<T>(
  UseCase: new (...args: any[]) => T,
  options: { provided?: Array<[unknown, unknown]>; requireIndependentApprover?: boolean } = {},
): UseCaseKit<T> {
  const config = { requireIndependentApprover: options.requireIndependentApprover ?? false } as AppConfig;
  const kit = newTestService(UseCase, [[AppConfig, config], ...((options.provided ?? []) as Array<[any, unknown]>)], {
    real: [SubmissionStateMachine, TransitionWork],
  });
  const held = new Map<string, Submission>();
  const audited: AuditEntry[] = [];
  const recorded: Recorded[] = [];
  if (kit.mocks(SubmissionRepository)) holdSubmissions(kit.mock(SubmissionRepository), held);
  if (kit.mocks(AuditEventRepository)) {
    kit.mock(AuditEventRepository).record.mockImplementation(async (entry) => {
      audited.push(entry);
      return { id: `audit-${audited.length}` };
    });
  }
  if (kit.mocks(Outbox)) {
    kit.mock(Outbox).record.mockImplementation(async (job, payload, recordOptions = {}) => {
      recorded.push({ job, payload: payload as Record<string, unknown>, dedupeKey: recordOptions.dedupeKey ?? undefined });
      return { id: `work-${recorded.length}`, jobName: job, payload, dedupeKey: recordOptions.dedupeKey ?? null, availableAt: new Date(0), created: true } as never;
    });
  }
  return {
    ...kit,
    given: (...list) => {
      let last: Submission | undefined;
      for (const partial of list.length ? list : [{}]) {
        last = { id: '7', status: 'ready_to_export', procoreProjectId: '1001', sentBy: null, problemCount: 0, rowCount: 0, ...partial } as Submission;
        held.set(String(last.id), last);
      }
      return last!;
    },
    statusOf: (id = '7') => held.get(id)?.status,
    recorded: () => recorded,
    audited: () => audited,
  };
}

/** The mocked repository answers from `held` and changes status as the guarded update would. */
function holdSubmissions(submissions: Mocked<SubmissionRepository>, held: Map<string, Submission>): void {
  const find = async (id: string) => held.get(String(id)) ?? null;
  submissions.findById.mockImplementation(find);
  submissions.findWithPeople.mockImplementation(find);
  submissions.statusOf.mockImplementation(async (id) => held.get(String(id))?.status ?? null);
  submissions.statusVersion.mockImplementation(async (id) => {
    const found = held.get(String(id));
    return found ? { status: found.status, version: `v-${found.status}` } : null;
  });
  submissions.changeStatus.mockImplementation(async (id, from, to, changes: SubmissionChanges = {}, guard = {}) => {
    const found = held.get(String(id));
    if (!found || found.status !== from || (guard.notUnlocked && found.unlockedAt)) return false;
    Object.assign(found, changes, { status: to });
    return true;
  });
  submissions.previousEnded.mockResolvedValue(null);
}
