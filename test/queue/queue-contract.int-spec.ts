import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { JobHandler } from '../../src/queue/job-handler.decorator';
import { JobName } from '../../src/queue/queue.contract';
import { resetDatabase, resetRedis } from '../support/database';
import { startTestWorker } from '../support/test-app';
import { runId, testConfig } from '../support/test-env';

@Injectable()
class SecondSweeper {
  @JobHandler(JobName.SweepPendingWork)
  async handle(): Promise<void> {}
}

@Module({ providers: [SecondSweeper] })
class DuplicateHandlerModule {}

describe('queue contract at start-up', () => {
  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
  });

  it('a worker with every job of the contract handled exactly once starts', async () => {
    const worker = await startTestWorker();
    await worker.close();
  });

  it('a worker refuses to start when a job has two handlers', async () => {
    const config = testConfig({ APP_ROLE: 'worker' });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config, { runWorkers: true, runScheduler: false, queuePrefix: `test-${runId()}` }), DuplicateHandlerModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(/job "sweep-pending-work" has 2 handlers: PendingWorkSweeper\.handle, SecondSweeper\.handle/);
    await app.close();
  });

  it('a worker refuses to start when a job it should process has no handler', async () => {
    const unknown = 'recalculate-everything' as JobName;
    await expect(startTestWorker({ jobs: [JobName.SweepPendingWork, unknown] })).rejects.toThrow(
      /job "recalculate-everything" has no handler/,
    );
  });

  it('an API-only process needs no handlers', async () => {
    const config = testConfig({ APP_ROLE: 'api' });
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot(config, { runWorkers: false, runScheduler: false, queuePrefix: `test-${runId()}` }), DuplicateHandlerModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
  });
});
