import { MikroOrmModule } from '@mikro-orm/nestjs';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { AppConfigModule } from '../../src/config/config.module';
import { runtimeOptions } from '../../src/config/runtime-options';
import { ormOptions } from '../../src/database/mikro-orm.config';
import { ENTITIES } from '../../src/entities';
import { JobHandler } from '../../src/queue/job-handler.decorator';
import { Outbox } from '../../src/queue/outbox';
import { PendingWorkRepository } from '../../src/queue/pending-work.repository';
import { JobName } from '../../src/queue/queue.contract';
import { QueueModule } from '../../src/queue/queue.module';
import { WorkQueue } from '../../src/queue/work-queue.service';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { databaseUrl, runId, testConfig } from '../support/test-env';
import { waitFor } from '../support/wait';

/** Rejects when `promise` has not settled within 15 s, so a missing run fails the test promptly. */
function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`Timed out waiting for ${what}`)), 15_000)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/**
 * A job whose runs the test holds open: each run records whether it saw the marker event, then
 * waits for the test to let it finish.
 */
@Injectable()
class HeldJob {
  runs: Array<{ sawMarker: boolean }> = [];
  started = [deferred(), deferred(), deferred()];
  release = [deferred(), deferred(), deferred()];

  constructor(private readonly em: EntityManager) {}

  @JobHandler(JobName.SyncUsers)
  async handle(): Promise<void> {
    const [{ count }] = await this.em.fork().execute<Array<{ count: string }>>(`select count(*) as count from audit_event where action = 'test.marker'`);
    const run = this.runs.push({ sawMarker: Number(count) > 0 }) - 1;
    this.started[run].resolve();
    await this.release[run].promise;
  }
}

describe('pending work requested again while it runs', () => {
  let moduleRef: TestingModule;
  let held: HeldJob;
  let queue: WorkQueue;
  let outbox: Outbox;
  let pendingWork: PendingWorkRepository;
  const key = 'sync-users:held';

  beforeEach(async () => {
    await resetDatabase();
    await resetRedis();
    moduleRef = await Test.createTestingModule({
      imports: [
        AppConfigModule.forRoot(
          testConfig({ APP_ROLE: 'worker', STUCK_AFTER_MINUTES: '15' }),
          runtimeOptions({ runWorkers: true, jobs: [JobName.SyncUsers], backoffScale: 0.001, queuePrefix: `test-${runId()}` }),
        ),
        MikroOrmModule.forRoot({ ...ormOptions(databaseUrl(), ENTITIES), registerRequestContext: false }),
        QueueModule,
      ],
      providers: [HeldJob],
    })
      .setLogger({ log: () => undefined, warn: () => undefined, error: console.error, debug: () => undefined, verbose: () => undefined })
      .compile();
    await moduleRef.init();
    held = moduleRef.get(HeldJob);
    queue = moduleRef.get(WorkQueue);
    outbox = moduleRef.get(Outbox);
    pendingWork = moduleRef.get(PendingWorkRepository);
  });
  afterEach(async () => {
    held.release.forEach((gate) => gate.resolve());
    await moduleRef.close();
  });

  const rows = () => sql(`select state, rerun_requested from pending_work where dedupe_key = $1 order by id`, [key]);
  const allDone = (count: number) => async () => {
    const found = await rows();
    return found.length === count && found.every((row) => row.state === 'done');
  };

  it('runs again once it finishes, rather than being marked done', async () => {
    const first = await outbox.enqueue(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
    await held.started[0].promise;
    const again = await outbox.enqueue(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
    expect(again).toMatchObject({ id: first.id, created: false });
    await outbox.enqueue(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key }); // a third request: still one more run
    held.release[0].resolve();
    await within(held.started[1].promise, 'the second run');
    held.release[1].resolve();
    await waitFor(allDone(2), 'both runs to finish');
    expect(held.runs).toHaveLength(2);
    expect(await rows()).toEqual([
      { state: 'done', rerun_requested: true },
      { state: 'done', rerun_requested: false },
    ]);
  });

  it('is folded into work that has not begun: one run', async () => {
    const first = await pendingWork.record(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
    const again = await pendingWork.record(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
    expect(again).toMatchObject({ id: first.id, created: false });
    await queue.dispatch([first]);
    await held.started[0].promise;
    held.release[0].resolve();
    await waitFor(allDone(1), 'the run to finish');
    expect(held.runs).toHaveLength(1);
  });

  it('a run cannot begin between the fold and the commit of the request that folded', async () => {
    const work = await pendingWork.record(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
    const tx = moduleRef.get(EntityManager); // inside the transaction below, its statements join it
    await pendingWork.transaction(async () => {
      await pendingWork.record(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key });
      await queue.addJob(work); // the worker takes it now…
      // …and waits for this transaction, whose row lock it needs to begin the run.
      await waitFor(async () => {
        const [{ waiting }] = await sql<{ waiting: string }>(
          `select count(*) as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock' and query like '%set attempts = attempts + 1%'`,
        );
        return waiting === '1';
      }, 'the worker to wait for the request to commit');
      await tx.execute(`insert into audit_event (actor_label, action, created_at) values ('test', 'test.marker', now())`);
    });
    await held.started[0].promise;
    held.release[0].resolve();
    await waitFor(allDone(1), 'the run to finish');
    expect(held.runs).toEqual([{ sawMarker: true }]);
  });

  it('a schedule window (recorded once ever) requested again while running is not run again', async () => {
    await outbox.enqueue(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key, once: true });
    await held.started[0].promise;
    expect(await outbox.enqueue(JobName.SyncUsers, { window: 'held' }, { dedupeKey: key, once: true })).toMatchObject({ created: false });
    held.release[0].resolve();
    await waitFor(allDone(1), 'the run to finish');
    expect(await rows()).toEqual([{ state: 'done', rerun_requested: false }]);
  });
});
