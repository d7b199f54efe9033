import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { INestApplication, INestApplicationContext, LogLevel } from '@nestjs/common';
import { createHttpApp, createWorkerContext } from '../../src/bootstrap';
import { AppConfig } from '../../src/config/app-config';
import { RUNTIME_OPTIONS, RuntimeOptions, Timings } from '../../src/config/runtime-options';
import { JobName } from '../../src/queue/queue.contract';
import type { DestinationStream } from 'pino';
import { runId, testConfig } from './test-env';

export interface TestApp {
  app: INestApplication;
  url: string;
  config: AppConfig;
  /** A fresh entity manager of the app's ORM. */
  em(): EntityManager;
  get<T>(token: abstract new (...args: never[]) => T): T;
  close(): Promise<void>;
}

export interface TestAppOptions {
  env?: Record<string, string | undefined>;
  runWorkers?: boolean;
  runScheduler?: boolean;
  backoffScale?: number;
  logger?: LogLevel[] | false;
  /** Jobs the worker takes (default: all). */
  jobs?: JobName[];
  /** Timings to shorten (Procore retries, give-up ages, lock waits). */
  timings?: Timings;
  /** Where the app's log lines go instead of stdout. */
  logStream?: DestinationStream;
}

/** The real HTTP application on an ephemeral port, against this worker's database and Redis. */
export async function startTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const config = testConfig({ APP_ROLE: 'api', ...(options.env ?? {}) });
  const app = await createHttpApp(config, {
    runWorkers: options.runWorkers ?? false,
    runScheduler: options.runScheduler ?? false,
    backoffScale: options.backoffScale ?? 0.001,
    queuePrefix: `test-${runId()}`,
    jobs: options.jobs,
    timings: options.timings,
    logger: options.logger ?? ['error'],
    logStream: options.logStream,
  });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return wrap(app, config, `http://127.0.0.1:${address.port}`);
}

/** A worker process (no HTTP), as APP_ROLE=worker runs it. */
export async function startTestWorker(options: TestAppOptions = {}): Promise<Omit<TestApp, 'url' | 'app'> & { app: INestApplicationContext }> {
  const config = testConfig({ APP_ROLE: 'worker', ...(options.env ?? {}) });
  const app = await createWorkerContext(config, {
    runWorkers: options.runWorkers ?? true,
    runScheduler: options.runScheduler ?? false,
    backoffScale: options.backoffScale ?? 0.001,
    queuePrefix: `test-${runId()}`,
    jobs: options.jobs,
    timings: options.timings,
    logger: options.logger ?? ['error'],
    logStream: options.logStream,
  });
  await app.init();
  return { ...wrap(app as INestApplication, config, ''), app };
}

function wrap(app: INestApplication, config: AppConfig, url: string): TestApp {
  return {
    app,
    url,
    config,
    em: () => app.get(MikroORM).em.fork() as EntityManager,
    get: <T>(token: abstract new (...args: never[]) => T) => app.get(token as never) as T,
    close: () => app.close(),
  };
}

/**
 * Runs `work` with some of the application's timings changed (its injected RuntimeOptions, read
 * when used), and puts them back afterwards.
 */
export async function withTimings<T>(app: Pick<TestApp, 'get'>, timings: Timings, work: () => Promise<T>): Promise<T> {
  const runtime = app.get(RUNTIME_OPTIONS as never) as RuntimeOptions;
  const before = { ...runtime.timings };
  Object.assign(runtime.timings, timings);
  try {
    return await work();
  } finally {
    runtime.timings = before;
  }
}
