import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { JobName } from '../../src/queue/queue.contract';
import { runId, testEnvironment } from './test-env';

const ROOT = join(__dirname, '..', '..');
/** The real worker (APP_ROLE=worker) as its own process; prints "ready" once it takes jobs. */
const WORKER_MAIN = join(ROOT, 'test', 'export', 'export-worker.main.ts');

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote to stdout and stderr. */
  output(): string;
  /** How and when it exited. */
  exited: Promise<WorkerExit>;
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
  const exited = new Promise<WorkerExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })));
  const handle: WorkerProcess = {
    child,
    pid: child.pid!,
    output: () => output,
    exited,
    stop: async (timeoutMs = 15_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    // Starting the TypeScript worker takes a while on a loaded machine.
    const timer = setTimeout(() => reject(new Error(`worker process did not start within 120 s:\n${output}`)), 120_000);
    const onData = () => {
      if (!output.includes('ready')) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(handle);
    };
    child.stdout!.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited (${code ?? signal}) before it was ready:\n${output}`));
    });
  });
}
