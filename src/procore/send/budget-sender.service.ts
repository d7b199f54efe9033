import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Submission } from '../../budgets/submission.entity';
import { presentSubmission } from '../../budgets/submission.presenter';
import { JobName } from '../../queue/queue.contract';
import { RecordedWork, WorkQueue } from '../../queue/work-queue.service';
import { User } from '../../users/user.entity';
import { SubmissionIntake } from '../ingestion/submission-intake.service';

/** The explicit send ("Send to ERP"): a new submission in `ingesting`, snapshotted by the queue. */
@Injectable()
export class BudgetSender {
  constructor(
    private readonly em: EntityManager,
    private readonly intake: SubmissionIntake,
    private readonly workQueue: WorkQueue,
  ) {}

  async send(procoreProjectId: string, user: User) {
    let works: RecordedWork[] = [];
    const id = await this.em.fork().transactional(async (em) => {
      const submissionId = await this.intake.open(em, {
        procoreProjectId,
        source: 'api',
        senderId: user.id,
        actor: { user },
        note: 'Sent through the API',
      });
      works = [await this.workQueue.record(em, JobName.IngestSubmission, { submissionId }, { dedupeKey: `ingest:${submissionId}` })];
      return submissionId;
    });
    await this.workQueue.dispatch(this.em.fork(), works);
    const submission = await this.em.fork().findOneOrFail(Submission, id, { populate: ['sentBy', 'createdBy', 'decidedBy', 'unlockedBy'] });
    return presentSubmission(submission);
  }
}
