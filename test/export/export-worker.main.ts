/**
 * A worker process for the crash tests: the real worker (APP_ROLE=worker) restricted to the
 * Spectrum jobs, on the queue prefix and backoff scale the parent passes. Prints "ready" once it
 * takes jobs. Run by the tests with `node -r ts-node/register/transpile-only`.
 */
import { createWorkerContext, exitWithin } from '../../src/bootstrap';
import { loadAppConfig } from '../../src/config/app-config';
import { JobName } from '../../src/queue/queue.contract';

async function main(): Promise<void> {
  const config = loadAppConfig(process.env);
  const app = await createWorkerContext(config, {
    runWorkers: true,
    runScheduler: false,
    queuePrefix: process.env.TEST_QUEUE_PREFIX,
    backoffScale: Number(process.env.TEST_BACKOFF_SCALE ?? '0.001'),
    jobs: (process.env.TEST_JOBS ?? '').split(',').filter(Boolean) as JobName[],
    logger: ['error'],
  });
  await app.init();
  exitWithin(config.shutdownTimeoutMs);
  process.stdout.write('ready\n');
  const stop = () => void app.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
