import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The suite's temporary directory (PostgreSQL's data, Redis's working directory) and its guard.
 *
 * Everything the suite starts is cleaned up by the suite itself (`cleanUp`), also when a check
 * fails or the run is interrupted (exit and signal handlers). For the case where the suite's own
 * process is killed outright (SIGKILL, a jest timeout killing its worker), a detached guard shell
 * waits for the suite's process to end and then kills, by pid, each process the suite recorded in
 * `pids`, stops the private PostgreSQL and deletes the directory. The machine's shared PostgreSQL
 * and Redis are never touched.
 */
export class RunDirectory {
  readonly path: string;
  private guardPid?: number;
  private readonly cleanups: Array<() => void> = [];
  private cleaned = false;
  private readonly onExit = () => this.cleanUp();
  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.cleanUp();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  constructor(options: { handleSignals?: boolean } = {}) {
    this.path = mkdtempSync(join(tmpdir(), 'connector-chaos-'));
    writeFileSync(this.pidFile, '');
    process.once('exit', this.onExit);
    if (options.handleSignals) {
      process.once('SIGINT', this.onSignal);
      process.once('SIGTERM', this.onSignal);
    }
  }

  get pidFile(): string {
    return join(this.path, 'pids');
  }

  /** Starts the guard shell; `stopPostgres` is the command line that stops the private server. */
  guard(stopPostgres: string[]): void {
    const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
    const script = [
      `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
      `for pid in $(cat ${quote(this.pidFile)} 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done`,
      `${stopPostgres.map(quote).join(' ')} >/dev/null 2>&1`,
      `rm -rf ${quote(this.path)}`,
    ].join('\n');
    const child = spawn('bash', ['-c', script], { detached: true, stdio: 'ignore' });
    child.unref();
    this.guardPid = child.pid;
  }

  /** A process the guard must kill if the suite dies. */
  recordPid(pid: number | undefined): void {
    if (pid) appendFileSync(this.pidFile, `${pid}\n`);
  }

  /** Runs at clean-up, newest first (synchronous: exit handlers cannot wait). */
  onCleanUp(cleanup: () => void): void {
    this.cleanups.push(cleanup);
  }

  cleanUp(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    for (const cleanup of [...this.cleanups].reverse()) {
      try {
        cleanup();
      } catch {
        // keep cleaning
      }
    }
    rmSync(this.path, { recursive: true, force: true });
    if (this.guardPid) {
      try {
        process.kill(this.guardPid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a program is on PATH. */
export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}
