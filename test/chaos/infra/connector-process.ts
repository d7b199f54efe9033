import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, WriteStream } from 'node:fs';
import { join } from 'node:path';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/**
 * One process of the built connector (`node [flags] main.js`), its role chosen by APP_ROLE, as it
 * runs in production: no test hooks, only its environment and the Node.js flags compose gives it. Its stdout and stderr go to a log file of
 * their own. The suite talks to it through HTTP, signals and its output only.
 */
export class ConnectorProcess {
  readonly startedAt = Date.now();
  readonly child: ChildProcess;
  readonly logPath: string;
  exit?: ProcessExit;
  private readonly log: WriteStream;
  private readonly exited: Promise<ProcessExit>;
  private tail = '';

  constructor(
    readonly name: string,
    main: string,
    env: Record<string, string>,
    logDir: string,
    cwd: string,
    nodeFlags: string[] = [],
  ) {
    this.logPath = join(logDir, `${name}.log`);
    this.log = createWriteStream(this.logPath);
    this.child = spawn(process.execPath, [...nodeFlags, main], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      this.log.write(chunk);
      // The last few kB, to tell when it is ready and to quote on failure.
      this.tail = (this.tail + chunk.toString('utf8')).slice(-16_384);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        this.log.end();
        resolve(this.exit);
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return !this.exit;
  }

  output(): string {
    return this.tail;
  }

  /** Resolves once `ready` says so; rejects if the process exits first or after `timeoutMs`. */
  async waitReady(ready: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready().catch(() => false))) {
      if (this.exit) throw new Error(`${this.name} exited (${this.exit.code ?? this.exit.signal}) before it was ready:\n${this.tail}`);
      if (Date.now() > deadline) throw new Error(`${this.name} was not ready within ${timeoutMs} ms:\n${this.tail}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  /** Waits for the process to end; SIGKILLs it after `timeoutMs` (the result says which it was). */
  async waitExit(timeoutMs: number): Promise<ProcessExit & { forced: boolean }> {
    let forced = false;
    const timer = setTimeout(() => {
      forced = true;
      this.child.kill('SIGKILL');
    }, timeoutMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return { ...exit, forced };
  }

  /** Synchronous kill for clean-up paths. */
  killNow(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}
