import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable, Logger } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { ForbiddenError } from '../../common/app-error';
import { Submission } from '../../budgets/submission.entity';
import { presentSubmission } from '../../budgets/submission.presenter';
import { JobName } from '../../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { User } from '../../users/user.entity';
import { BudgetReader } from '../ingestion/budget-reader.service';
import { describeFailure } from '../ingestion/ingestion-errors';
import { OpenedSubmission, OpenSubmissionUnchangedError, SubmissionIntake } from '../ingestion/submission-intake.service';
import { mapBudget } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';
import { ProjectScope } from '../project-scope';

export type SentBudget = ReturnType<typeof presentSubmission> & {
  /** True when the open submission already held this very budget: nothing was created (200). */
  unchanged: boolean;
  /** The `ready_to_export` submission the new one superseded (202), if any. */
  supersededSubmissionId?: string | null;
  /** Set when that submission was someone else's (or had no sender): who sent it. */
  supersededSentBy?: { id: string; name: string; email: string } | null;
  /** Set when it was someone else's: says, in words, whose submission this send replaced. */
  notice?: string;
};

/**
 * The explicit send ("Send to ERP"): a new submission in `ingesting`, snapshotted by the queue
 * (202). When a `ready_to_export` submission of the project is open, the budget is read first: if
 * it is locked and identical to that submission's snapshot, the send creates nothing and answers
 * 200 with that submission (`unchanged: true`) — a double click never makes a superseded copy;
 * otherwise the new one supersedes it, and the answer names it (DECISIONS.md, "Send twice").
 */
@Injectable()
export class BudgetSender {
  private readonly logger = new Logger(BudgetSender.name);

  constructor(
    private readonly em: EntityManager,
    private readonly intake: SubmissionIntake,
    private readonly workQueue: WorkQueue,
    private readonly reader: BudgetReader,
    private readonly mapping: MappingStore,
    private readonly audit: AuditService,
    private readonly scope: ProjectScope,
  ) {}

  async send(procoreProjectId: string, user: User): Promise<SentBudget> {
    if (!this.scope.includes(procoreProjectId)) throw new ForbiddenError(this.scope.refusal(procoreProjectId));
    const current = await this.currentFingerprintIfReady(procoreProjectId);
    let works: RecordedWork[] = [];
    let opened: OpenedSubmission;
    try {
      opened = await this.em.fork().transactional(async (em) => {
        const result = await this.intake.open(em, {
          procoreProjectId,
          source: 'api',
          senderId: user.id,
          actor: { user },
          note: 'Sent through the API',
          unlessOpenHolds: current,
        });
        works = [await this.workQueue.record(em, JobName.IngestSubmission, { submissionId: result.id }, { dedupeKey: `ingest:${result.id}` })];
        return result;
      });
    } catch (error) {
      if (error instanceof OpenSubmissionUnchangedError) return this.unchanged(error.submissionId, user);
      throw error;
    }
    await this.workQueue.dispatch(this.em.fork(), works);
    return {
      ...(await this.present(opened.id)),
      unchanged: false,
      supersededSubmissionId: opened.supersededId,
      ...(opened.superseded?.byAnotherPerson
        ? { supersededSentBy: opened.superseded.sentBy, notice: opened.superseded.notice }
        : {}),
    };
  }

  /**
   * The fingerprint of the budget as Procore has it, read only when a `ready_to_export` submission
   * could be superseded and the budget is locked. Procore not answering is no reason to refuse the
   * send: it goes ahead (superseding), and its ingestion deals with Procore.
   */
  private async currentFingerprintIfReady(procoreProjectId: string): Promise<string | undefined> {
    const [ready] = await this.em
      .fork()
      .execute<Array<{ id: string }>>(`select id from submission where procore_project_id = ? and status = 'ready_to_export' and fingerprint is not null`, [
        procoreProjectId,
      ]);
    if (!ready) return undefined;
    const projectId = Number(procoreProjectId);
    try {
      if (!(await this.reader.isLocked(projectId))) return undefined;
      return mapBudget((await this.reader.read(projectId)).source, this.mapping.current()).fingerprint;
    } catch (error) {
      this.logger.warn(`Send of Procore project ${procoreProjectId}: could not compare with submission ${ready.id} (${describeFailure(error)}); sending anyway`);
      return undefined;
    }
  }

  private async unchanged(submissionId: string, user: User): Promise<SentBudget> {
    const em = this.em.fork();
    this.audit.record(em, {
      submissionId,
      actor: { user },
      action: 'send_unchanged',
      note: 'Sent again through the API with the budget unchanged; this submission stands',
    });
    await em.flush();
    return { ...(await this.present(submissionId)), unchanged: true };
  }

  private async present(id: string) {
    const submission = await this.em.fork().findOneOrFail(Submission, id, { populate: ['sentBy', 'createdBy', 'decidedBy', 'unlockedBy'] });
    return presentSubmission(submission);
  }
}
