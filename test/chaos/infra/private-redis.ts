import { ChildProcess, spawn } from 'node:child_process';
import Redis from 'ioredis';

/**
 * A `redis-server` of the suite's own on its own port (never the machine's shared one), in the
 * foreground as our child so we know its pid. No persistence (`--save ""`, no AOF): a restart
 * comes back empty, which is what a Redis that lost its data looks like to the connector — every
 * queued job, lock and semaphore permit gone. PostgreSQL must be enough to finish the work.
 */
export class PrivateRedis {
  private child?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(port: number, dir: string): Promise<PrivateRedis> {
    const redis = new PrivateRedis(port, dir);
    await redis.up();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async up(): Promise<void> {
    if (this.child) return;
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start: ${stderr}`);
      if (await this.ping()) return;
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port}: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGTERM without a save (none is configured); waits for the process to end. */
  async down(): Promise<void> {
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** Synchronous, for exit handlers. */
  stopNow(): void {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
    this.child = undefined;
  }

  private async ping(): Promise<boolean> {
    const client = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 500 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }
}
