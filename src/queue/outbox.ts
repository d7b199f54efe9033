import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable } from '@nestjs/common';
import { PendingWorkRepository, RecordedWork, RecordOptions } from './pending-work.repository';
import { JobName, JobPayloads } from './queue.contract';
import { WorkQueue } from './work-queue.service';

export interface OutboxOptions {
  /**
   * `await` (default): the caller waits for the dispatch (never long: WorkQueue.dispatch gives up
   * after a short timeout). `background`: it does not (a webhook answers Procore at once).
   */
  dispatch?: 'await' | 'background';
}

/**
 * The transactional outbox, in one place: `transaction(work)` runs `work` in one PostgreSQL
 * transaction; the work it records (`record`, or a state machine transition that causes work)
 * lands in `pending_work` in that same transaction and is put on its queue after the commit. A
 * rollback records nothing and dispatches nothing. Nested calls join the outer transaction, whose
 * commit dispatches everything.
 */
@Injectable()
export class Outbox {
  private readonly scope = new AsyncLocalStorage<RecordedWork[]>();

  constructor(
    private readonly pendingWork: PendingWorkRepository,
    private readonly workQueue: WorkQueue,
  ) {}

  async transaction<T>(work: () => Promise<T>, options: OutboxOptions = {}): Promise<T> {
    if (this.scope.getStore()) return this.pendingWork.transaction(work);
    if (this.pendingWork.inTransaction()) {
      // Its work would be dispatched before the outer transaction commits.
      throw new Error('Outbox.transaction inside a transaction the outbox did not open');
    }
    const recorded: RecordedWork[] = [];
    const result = await this.scope.run(recorded, () => this.pendingWork.transaction(work));
    const dispatched = this.workQueue.dispatch(recorded);
    if (options.dispatch === 'background') dispatched.catch(() => undefined);
    else await dispatched;
    return result;
  }

  /**
   * Like `transaction`, but hands the recorded work back undispatched: the caller puts it on its
   * queues (WorkQueue.dispatch) when it chooses — or the sweeper does, after its grace period.
   */
  async transactionHeld<T>(work: () => Promise<T>): Promise<{ result: T; recorded: RecordedWork[] }> {
    if (this.scope.getStore() || this.pendingWork.inTransaction()) throw new Error('Outbox.transactionHeld inside another transaction');
    const recorded: RecordedWork[] = [];
    const result = await this.scope.run(recorded, () => this.pendingWork.transaction(work));
    return { result, recorded };
  }

  /** Records work in the surrounding `transaction`; it is dispatched after that commits. */
  async record<K extends JobName>(jobName: K, payload: JobPayloads[K], options: RecordOptions = {}): Promise<RecordedWork> {
    const recorded = this.scope.getStore();
    if (!recorded) throw new Error(`Outbox.record(${jobName}) outside Outbox.transaction: the work would never be dispatched`);
    const work = await this.pendingWork.record(jobName, payload, options);
    recorded.push(work);
    return work;
  }

  /**
   * Work that belongs to no business transaction (a schedule's tick, the CLI): recorded and put on
   * its queue. `onlyIfNew`: nothing is dispatched when the key was already taken (another
   * instance recorded it and dispatches it itself).
   */
  async enqueue<K extends JobName>(
    jobName: K,
    payload: JobPayloads[K],
    options: RecordOptions & { onlyIfNew?: boolean } = {},
  ): Promise<RecordedWork> {
    const work = await this.pendingWork.record(jobName, payload, options);
    if (work.created || !options.onlyIfNew) await this.workQueue.dispatch([work]);
    return work;
  }
}
