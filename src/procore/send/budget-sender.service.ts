import { Injectable, Logger } from '@nestjs/common';
import { SubmissionRepository } from '../../budgets/submission.repository';
import { presentSubmission } from '../../budgets/submission.presenter';
import { OpenSubmission } from '../../budgets/use-cases/open-submission';
import { User } from '../../users/user.entity';
import { BudgetReader } from '../ingestion/budget-reader.service';
import { describeFailure } from '../ingestion/ingestion-errors';
import { mapBudget } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';
import { ProcoreException, ProcoreExceptionCode } from '../procore.exception';
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
 * otherwise the new one supersedes it, and the answer names it (docs/architecture.md, "Send twice").
 * OpenSubmission records it all.
 */
@Injectable()
export class BudgetSender {
  private readonly logger = new Logger(BudgetSender.name);

  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly openSubmission: OpenSubmission,
    private readonly reader: BudgetReader,
    private readonly mapping: MappingStore,
    private readonly scope: ProjectScope,
  ) {}

  async send(procoreProjectId: string, user: User): Promise<SentBudget> {
    if (!this.scope.includes(procoreProjectId)) throw new ProcoreException(ProcoreExceptionCode.OutOfScope, this.scope.refusal(procoreProjectId));
    const current = await this.currentFingerprintIfReady(procoreProjectId);
    const opened = await this.openSubmission.execute({
      procoreProjectId,
      source: 'api',
      senderId: user.id,
      actor: { user },
      note: 'Sent through the API',
      unlessOpenHolds: current,
      then: { ingest: true },
    });
    if (opened.unchanged) return { ...(await this.present(opened.id)), unchanged: true };
    return {
      ...(await this.present(opened.id)),
      unchanged: false,
      supersededSubmissionId: opened.supersededId,
      ...(opened.superseded?.byAnotherPerson ? { supersededSentBy: opened.superseded.sentBy, notice: opened.superseded.notice } : {}),
    };
  }

  /**
   * The fingerprint of the budget as Procore has it, read only when a `ready_to_export` submission
   * could be superseded and the budget is locked. Procore not answering is no reason to refuse the
   * send: it goes ahead (superseding), and its ingestion deals with Procore.
   */
  private async currentFingerprintIfReady(procoreProjectId: string): Promise<string | undefined> {
    const ready = await this.submissions.openOf(procoreProjectId);
    if (ready?.status !== 'ready_to_export' || ready.fingerprint === null) return undefined;
    const projectId = Number(procoreProjectId);
    try {
      if (!(await this.reader.isLocked(projectId))) return undefined;
      return mapBudget((await this.reader.read(projectId)).source, this.mapping.current()).fingerprint;
    } catch (error) {
      this.logger.warn(`Send of Procore project ${procoreProjectId}: could not compare with submission ${ready.id} (${describeFailure(error)}); sending anyway`);
      return undefined;
    }
  }

  private async present(id: string) {
    return presentSubmission((await this.submissions.findWithPeople(id))!);
  }
}
