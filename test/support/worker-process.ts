import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { JobName } from '../../src/queue/queue.contract';
import { runId, testEnvironment } from './test-env';

const ROOT = join(__dirname, '..', '..');
/** The real worker (APP_ROLE=worker) as its own process; prints "ready" once it takes jobs. */
const WORKER_MAIN = join(ROOT, 'test', 'export', 'export-worker.main.ts');

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** SIGTERM, then waits for it to exit (SIGKILL after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * Starts a worker process on this jest worker's database and Redis, on the test queue prefix,
 * taking only `jobs`. Resolves once it is processing.
 */
export function startWorkerProcess(jobs: JobName[], env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', WORKER_MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      ...testEnvironment({ APP_ROLE: 'worker', ...env }),
      TEST_QUEUE_PREFIX: `test-${runId()}`,
      TEST_BACKOFF_SCALE: '0.001',
      TEST_JOBS: jobs.join(','),
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: WorkerProcess = {
    child,
    pid: child.pid!,
    output: () => output,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start within 60 s:\n${output}`)), 60_000);
    const onData = () => {
      if (!output.includes('ready')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(handle);
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker process exited before it was ready:\n${output}`));
    });
  });
}
