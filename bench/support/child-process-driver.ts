import { ChildProcess, fork } from 'node:child_process';

/**
 * Drives a benchmark helper in a child process over IPC: one command at a time, answered with
 * `{ok, result}` or `{ok: false, error}`. The child is killed when the benchmark exits.
 */
export class ChildProcessDriver {
  private waiting?: { resolve: (value: unknown) => void; reject: (error: Error) => void };

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { ok: boolean; result?: unknown; error?: string }) => {
      const waiting = this.waiting;
      this.waiting = undefined;
      if (message.ok) waiting?.resolve(message.result);
      else waiting?.reject(new Error(message.error));
    });
    process.once('exit', () => child.kill());
    child.on('exit', (code) => {
      this.waiting?.reject(new Error(`the child process exited (code ${code})`));
      this.waiting = undefined;
    });
  }

  /** A TypeScript helper, run through ts-node. */
  static typescript(file: string): ChildProcessDriver {
    return new ChildProcessDriver(
      fork(file, [], { execArgv: ['-r', 'ts-node/register/transpile-only'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
  }

  send<T>(command: Record<string, unknown>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting = { resolve: resolve as (value: unknown) => void, reject };
      this.child.send(command);
    });
  }
}
