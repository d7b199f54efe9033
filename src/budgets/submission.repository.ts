import { FilterQuery } from '@mikro-orm/core';
import { UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { problemsSql } from './snapshot-summary.sql';
import { PEOPLE_JOINS, SubmissionView, submissionView, VIEW_COLUMNS, ViewRecord } from './submission-view';
import { Submission, SubmissionSource } from './submission.entity';
import { OPEN_STATUSES, SubmissionStatus } from './submission-status';

/** The people a submission names, loaded with it. */
export const PEOPLE = ['sentBy', 'createdBy', 'decidedBy', 'unlockedBy'] as const;

export type SubmissionChanges = Partial<
  Pick<
    Submission,
    | 'decidedAt'
    | 'rejectionReason'
    | 'ingestError'
    | 'projectName'
    | 'job'
    | 'budgetViewId'
    | 'originalBudget'
    | 'budgetChanges'
    | 'revisedEstimate'
    | 'lineCount'
    | 'rowCount'
    | 'problemCount'
    | 'fingerprint'
    | 'projectOriginId'
    | 'projectNumber'
    | 'remappable'
    | 'exportedAt'
    | 'unlockedAt'
  >
> & { decidedBy?: { id: string } | null; createdBy?: string | null; unlockedBy?: { id: string } | null };

export interface NewSubmission {
  procoreProjectId: string;
  source: SubmissionSource;
  senderId: string | null;
}

/** A project's open submission, as sending a new one needs it. */
export interface OpenSubmission {
  id: string;
  status: SubmissionStatus;
  fingerprint: string | null;
  sentAt: Date;
  /** Whoever sent it; null when nobody did (the polling sweep, an unknown webhook user). */
  sentBy: { id: string; name: string; email: string } | null;
}

/** A submission's status, and its version: when it last changed, as text so no digit is lost. */
export interface StatusVersion {
  status: SubmissionStatus;
  version: string;
}

/** The details page's head: the submission, and what PostgreSQL counts over its whole snapshot. */
export interface SubmissionDetailsHead {
  submission: SubmissionView;
  linesTotal: number;
  rowsTotal: number;
  /** Every reason it cannot be accepted, one sentence each, in line order, each once (SnapshotRepository.problems). */
  problems: string[];
}

/** Thrown by `create` when the project already has an open submission (the partial unique index). */
export class OpenSubmissionExistsError extends Error {}

/**
 * Budget submissions (`submission`): the submission row itself — finding, listing, opening one,
 * the guarded status change. Their lines, rows and export ledger are SnapshotRepository's; the
 * two are the submission aggregate's repositories and the only code that reads or writes its tables.
 */
@Injectable()
export class SubmissionRepository extends Repository {
  findById(id: string): Promise<Submission | null> {
    return this.em.findOne(Submission, id);
  }

  /** The Procore project of a submission, for log lines (one indexed read, no entity loaded). */
  async procoreProjectOf(id: string): Promise<string | undefined> {
    if (!/^\d{1,18}$/.test(id)) return undefined;
    const [row] = await this.em.execute<Array<{ procore_project_id: string }>>('select procore_project_id from submission where id = ?', [id]);
    return row?.procore_project_id;
  }

  /** With the people it names (sender, creator, decider, unlocker). */
  findWithPeople(id: string): Promise<Submission | null> {
    return this.em.findOne(Submission, id, { populate: PEOPLE });
  }

  async exists(id: string): Promise<boolean> {
    return (await this.em.count(Submission, { id })) > 0;
  }

  /** The status as stored right now (never a cached entity's). */
  async statusOf(id: string): Promise<SubmissionStatus | null> {
    const [row] = await this.em.execute<Array<{ status: SubmissionStatus }>>(`select status from submission where id = ?`, [id]);
    return row?.status ?? null;
  }

  /**
   * The status and its version; `forUpdate` locks the row until the surrounding transaction ends
   * (an accept or retry of it waits, and sees what this transaction wrote).
   */
  async statusVersion(id: string, options: { forUpdate?: boolean } = {}): Promise<StatusVersion | null> {
    const [row] = await this.em.execute<Array<{ status: SubmissionStatus; version: string }>>(
      `select status, status_changed_at::text as version from submission where id = ?${options.forUpdate ? ' for update' : ''}`,
      [id],
    );
    return row ?? null;
  }

  /** Milliseconds since the submission was created, by the database's clock. */
  async ageMs(id: string): Promise<number | null> {
    const [row] = await this.em.execute<Array<{ age_ms: number }>>(
      `select (extract(epoch from now() - created_at) * 1000)::float8 as age_ms from submission where id = ?`,
      [id],
    );
    return row ? Number(row.age_ms) : null;
  }

  /**
   * A page of submissions, newest first, with their people, and how many match: one statement
   * (the page is cut in `submission` alone, served by the (created_at, id) indexes, then its people
   * are joined); a second one only to count when the page lies beyond the end.
   */
  async page(where: { status?: SubmissionStatus; procoreProjectId?: string }, page: number, perPage: number): Promise<{ items: SubmissionView[]; total: number }> {
    const conditions = [
      ...(where.status ? [{ sql: 'status = ?', value: where.status }] : []),
      ...(where.procoreProjectId ? [{ sql: 'procore_project_id = ?', value: where.procoreProjectId }] : []),
    ];
    const filter = conditions.length ? `where ${conditions.map((c) => c.sql).join(' and ')}` : '';
    const params = conditions.map((c) => c.value);
    const records = await this.em.execute<Array<ViewRecord & { total: string }>>(
      `select ${VIEW_COLUMNS}, s.total
         from (select *, count(*) over () as total from submission ${filter} order by created_at desc, id desc limit ? offset ?) s
         ${PEOPLE_JOINS}
        order by s.created_at desc, s.id desc`,
      [...params, perPage, (page - 1) * perPage],
    );
    if (records.length) return { items: records.map(submissionView), total: Number(records[0].total) };
    const [{ count }] = await this.em.execute<Array<{ count: string }>>(`select count(*) as count from submission ${filter}`, params);
    return { items: [], total: Number(count) };
  }

  /**
   * The details page's head in one statement: the submission with its people, how many lines and
   * rows its snapshot holds and every problem of it (counted and collected in PostgreSQL, from the
   * flagged lines and rows only, through the partial indexes).
   */
  async detailsHead(id: string): Promise<SubmissionDetailsHead | null> {
    const [record] = await this.em.execute<Array<ViewRecord & { lines_total: string; rows_total: string; problems: string[] | null }>>(
      `select ${VIEW_COLUMNS},
              (select count(*) from submission_line where submission_id = s.id) as lines_total,
              (select count(*) from submission_row where submission_id = s.id) as rows_total,
              array(${problemsSql('s.id')}) as problems
         from submission s ${PEOPLE_JOINS}
        where s.id = ?`,
      [id],
    );
    if (!record) return null;
    return { submission: submissionView(record), linesTotal: Number(record.lines_total), rowsTotal: Number(record.rows_total), problems: textArray(record.problems) };
  }

  /**
   * The console's list: submissions in `statuses` (all when null) whose project name or job contains
   * `search`, or whose Procore project id is `search`; newest first.
   */
  search(statuses: readonly SubmissionStatus[] | null, search: string, page: number, perPage: number): Promise<[Submission[], number]> {
    const where: FilterQuery<Submission> = statuses ? { status: { $in: [...statuses] } } : {};
    if (search) {
      const like = likePattern(search);
      where.$or = [{ projectName: { $ilike: like } }, { job: { $ilike: like } }, ...(/^\d{1,18}$/.test(search) ? [{ procoreProjectId: search }] : [])];
    }
    return this.em.findAndCount(Submission, where, {
      populate: ['sentBy', 'decidedBy'],
      orderBy: { createdAt: 'desc', id: 'desc' },
      limit: perPage,
      offset: (page - 1) * perPage,
    });
  }

  /** How many submissions are in each status, among those matching `search` (as in `search`). */
  async countByStatus(search: string): Promise<Map<SubmissionStatus, number>> {
    const searchSql = search ? `(project_name ilike ? or job ilike ? or procore_project_id::text = ?)` : 'true';
    const like = likePattern(search);
    const counts = await this.em.execute<Array<{ status: SubmissionStatus; count: string }>>(
      `select status, count(*) as count from submission where ${searchSql} group by status`,
      search ? [like, like, search] : [],
    );
    return new Map(counts.map((row) => [row.status, Number(row.count)]));
  }

  /** Ids of the submissions in these statuses, oldest first. */
  async idsIn(statuses: readonly SubmissionStatus[]): Promise<string[]> {
    const rows = await this.em.execute<Array<{ id: string }>>(
      `select id from submission where status in (${statuses.map(() => '?').join(',')}) order by id`,
      [...statuses],
    );
    return rows.map((row) => String(row.id));
  }

  /** How many submissions are in a status. */
  count(status: SubmissionStatus): Promise<number> {
    return this.em.count(Submission, { status });
  }

  /** The submissions awaiting acceptance, oldest sent first, with their senders (the daily summary). */
  awaitingAcceptance(): Promise<Submission[]> {
    return this.em.find(Submission, { status: 'ready_to_export' }, { populate: ['sentBy'], orderBy: { sentAt: 'asc', id: 'asc' } });
  }

  // ---- a project's submissions -----------------------------------------------------------------

  /** The project's open submission (there is at most one: OPEN_STATUSES, a partial unique index), with its sender. */
  async openOf(procoreProjectId: string): Promise<OpenSubmission | undefined> {
    const [open] = await this.em.execute<Array<{ id: string; status: SubmissionStatus; fingerprint: string | null; sent_at: Date | string; sender_id: string | null; sender_name: string | null; sender_email: string | null }>>(
      `select s.id, s.status, s.fingerprint, s.sent_at, u.id as sender_id, u.name as sender_name, u.email as sender_email
         from submission s left join app_user u on u.id = s.sent_by_id
        where s.procore_project_id = ? and s.status in (${OPEN_STATUSES.map(() => '?').join(',')}) limit 1`,
      [procoreProjectId, ...OPEN_STATUSES],
    );
    if (!open) return undefined;
    const sentBy = open.sender_id ? { id: String(open.sender_id), name: open.sender_name ?? '', email: open.sender_email ?? '' } : null;
    return { id: String(open.id), status: open.status, fingerprint: open.fingerprint, sentAt: new Date(open.sent_at), sentBy };
  }

  /** The project's open submission newer than `thanId`, if any. */
  async newerOpen(procoreProjectId: string, thanId: string): Promise<{ id: string; status: SubmissionStatus } | undefined> {
    const [newer] = await this.em.execute<Array<{ id: string; status: SubmissionStatus }>>(
      `select id, status from submission where procore_project_id = ? and id > ? and status in (${OPEN_STATUSES.map(() => '?').join(',')})
       order by id desc limit 1`,
      [procoreProjectId, thanId, ...OPEN_STATUSES],
    );
    return newer ? { id: String(newer.id), status: newer.status } : undefined;
  }

  /** The project's last submission that holds a budget (ingestion failures hold none): what was last sent. */
  async lastSent(procoreProjectId: string): Promise<{ id: string; status: SubmissionStatus; fingerprint: string } | undefined> {
    const [last] = await this.em.execute<Array<{ id: string; status: SubmissionStatus; fingerprint: string }>>(
      `select id, status, fingerprint from submission
       where procore_project_id = ? and status <> 'ingest_failed' and fingerprint is not null order by id desc limit 1`,
      [procoreProjectId],
    );
    return last ? { ...last, id: String(last.id) } : undefined;
  }

  /** The project's newest submission, whatever its status. */
  async newestOf(procoreProjectId: string): Promise<{ id: string; status: SubmissionStatus; ingestError: string | null } | undefined> {
    const [newest] = await this.em.execute<Array<{ id: string; status: SubmissionStatus; ingest_error: string | null }>>(
      `select id, status, ingest_error from submission where procore_project_id = ? order by id desc limit 1`,
      [procoreProjectId],
    );
    return newest ? { id: String(newest.id), status: newest.status, ingestError: newest.ingest_error } : undefined;
  }

  /**
   * The submission before this one of the same project (ingestion failures aside), when it ended
   * rejected or retrieved: this one is a re-send. With its decider.
   */
  async previousEnded(id: string): Promise<Submission | null> {
    const [previous] = await this.em.execute<Array<{ id: string; status: SubmissionStatus }>>(
      `select id, status from submission
       where procore_project_id = (select procore_project_id from submission where id = ?) and id < ? and status <> 'ingest_failed'
       order by id desc limit 1`,
      [id, id],
    );
    if (!previous || (previous.status !== 'rejected' && previous.status !== 'retrieved')) return null;
    return this.em.findOne(Submission, String(previous.id), { populate: ['decidedBy'] });
  }

  /**
   * Submissions waiting in a status for work that would move them on (`waitingFor`: status → job)
   * for longer than `stuckAfterMs`, with no such work pending.
   */
  async stuckWithoutWork(waitingFor: Partial<Record<SubmissionStatus, string>>, stuckAfterMs: number): Promise<Array<{ id: string; status: SubmissionStatus }>> {
    const entries = Object.entries(waitingFor) as Array<[SubmissionStatus, string]>;
    if (!entries.length) return [];
    const rows = await this.em.execute<Array<{ id: string; status: SubmissionStatus }>>(
      `select s.id, s.status from submission s
        where s.status in (${entries.map(() => '?').join(',')})
          and s.status_changed_at < now() - (? * interval '1 millisecond')
          and not exists (
            select 1 from pending_work w
             where w.state = 'pending'
               and w.job_name = case s.status ${entries.map(() => 'when ? then ?').join(' ')} end
               and w.payload->>'submissionId' = s.id::text)
        order by s.id limit 100`,
      [...entries.map(([status]) => status), stuckAfterMs, ...entries.flat()],
    );
    return rows.map((row) => ({ id: String(row.id), status: row.status }));
  }

  // ---- writes ----------------------------------------------------------------------------------

  /** Opens a submission in `ingesting`; OpenSubmissionExistsError when the project has an open one. */
  async create(data: NewSubmission): Promise<Submission> {
    const em = this.tx;
    const now = new Date();
    const submission = em.create(Submission, {
      procoreProjectId: data.procoreProjectId,
      status: 'ingesting',
      source: data.source,
      sentBy: data.senderId,
      sentAt: now,
      statusChangedAt: now,
      createdAt: now,
      updatedAt: now,
    } as never);
    try {
      await em.flush();
    } catch (error) {
      if (error instanceof UniqueConstraintViolationException) throw new OpenSubmissionExistsError(error.message);
      throw error;
    }
    return submission;
  }

  /**
   * The guarded status change: `from` → `to` with `changes`, only if the status is still `from`
   * (`… where status = :from`) and, with `notUnlocked`, the budget was not unlocked yet. False when
   * another request got there first. A change to the same status (an unlock) keeps its version.
   */
  async changeStatus(
    id: string,
    from: SubmissionStatus,
    to: SubmissionStatus,
    changes: SubmissionChanges = {},
    guard: { notUnlocked?: boolean } = {},
  ): Promise<boolean> {
    const now = new Date();
    const where: FilterQuery<Submission> = { id, status: from, ...(guard.notUnlocked ? { unlockedAt: null } : {}) };
    const moved = from === to ? {} : { status: to, statusChangedAt: now };
    const updated = await this.em.nativeUpdate(Submission, where, { ...changes, ...moved, updatedAt: now } as never);
    return updated === 1;
  }

  /** Columns that change without a status change (a remap, which holds the row's lock). */
  async update(id: string, changes: SubmissionChanges): Promise<void> {
    await this.em.nativeUpdate(Submission, { id }, { ...changes, updatedAt: new Date() } as never);
  }

  /** Notes, before locking it in Procore, that the connector locked the budget itself (it unlocks it on failure). */
  async markLockedByConnector(id: string): Promise<void> {
    await this.em.nativeUpdate(Submission, { id, status: 'ingesting' }, { lockedByConnector: true });
  }
}

/** A text[] column, which the driver parses. */
function textArray(value: string[] | null): string[] {
  if (value === null) return [];
  if (!Array.isArray(value)) throw new Error(`expected a text[] column, got ${typeof value}`);
  return value;
}

function likePattern(search: string): string {
  return `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
