import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * A PostgreSQL server of the suite's own: `initdb` into a temporary directory, started with
 * `pg_ctl` on its own port (and its own socket directory), never the machine's shared instance,
 * so the suite may stop and restart it at will. PostgreSQL refuses to run as root, so as root it
 * runs as the `postgres` user (`runuser`), the directory handed to that user.
 *
 * `track_commit_timestamp` is on: the suite reads when each ledger update committed
 * (`pg_xact_commit_timestamp(xmin)`). `fsync` is off: a restart here is PostgreSQL's processes
 * stopping (immediate mode = a crash, with recovery at start), not the machine losing power, so
 * nothing committed is lost while the disk writes stay cheap on a shared machine.
 */
export class PrivatePostgres {
  private running = false;

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
  ) {}

  /** Creates the cluster under `dir/pg` (dir must exist) and starts it. */
  static async start(dir: string, port: number): Promise<PrivatePostgres> {
    const pg = new PrivatePostgres(dir, port, postgresBinDir());
    mkdirSync(pg.dataDir, { recursive: true });
    if (asRoot()) chownSync(dir, postgresUid(), postgresGid());
    if (asRoot()) chownSync(pg.dataDir, postgresUid(), postgresGid());
    pg.run('initdb', ['-D', pg.dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    writeFileSync(
      join(pg.dataDir, 'postgresql.auto.conf'),
      [
        `port = ${port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${pg.dataDir}'`,
        'max_connections = 200',
        'track_commit_timestamp = on',
        'fsync = off',
        'full_page_writes = off',
        'shared_buffers = 64MB',
        "log_min_messages = 'warning'",
        '',
      ].join('\n'),
    );
    if (asRoot()) chownSync(join(pg.dataDir, 'postgresql.auto.conf'), postgresUid(), postgresGid());
    await pg.up();
    return pg;
  }

  get dataDir(): string {
    return join(this.dir, 'pg');
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      await client.query(`create database "${name}"`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  /** Starts the server and waits until it accepts connections. */
  async up(): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-l', join(this.dir, 'postgres.log'), '-w', '-t', '60', 'start']);
    this.running = true;
  }

  /**
   * Stops the server: `immediate` is a crash (every backend killed at once, open transactions lost,
   * recovery at the next start); `fast` disconnects clients and shuts down cleanly.
   */
  async down(mode: 'immediate' | 'fast' = 'immediate'): Promise<void> {
    this.run('pg_ctl', ['-D', this.dataDir, '-w', '-t', '60', '-m', mode, 'stop']);
    this.running = false;
  }

  /** Stops the server if it runs (synchronous: usable from an exit handler). */
  stopNow(): void {
    if (!existsSync(join(this.dataDir, 'postmaster.pid'))) return;
    this.runQuietly('pg_ctl', ['-D', this.dataDir, '-w', '-t', '30', '-m', 'immediate', 'stop']);
    this.running = false;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The command as the postgres user when we are root. */
  command(tool: string, args: string[]): [string, string[]] {
    const binary = join(this.bin, tool);
    return asRoot() ? ['runuser', ['-u', 'postgres', '--', binary, ...args]] : [binary, args];
  }

  private run(tool: string, args: string[]): void {
    const [file, argv] = this.command(tool, args);
    try {
      execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'], cwd: '/' });
    } catch (error) {
      const failure = error as { stderr?: Buffer; stdout?: Buffer; message: string };
      throw new Error(`${tool} failed: ${failure.stderr?.toString() || failure.stdout?.toString() || failure.message}`);
    }
  }

  private runQuietly(tool: string, args: string[]): void {
    const [file, argv] = this.command(tool, args);
    spawnSync(file, argv, { stdio: 'ignore', cwd: '/' });
  }
}

/** The newest PostgreSQL installed under /usr/lib/postgresql (Debian's layout), else initdb on PATH. */
export function postgresBinDir(): string {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(root, versions[0], 'bin');
  }
  const found = spawnSync('sh', ['-c', 'dirname "$(command -v initdb)"'], { encoding: 'utf8' }).stdout.trim();
  if (found && existsSync(join(found, 'initdb'))) return found;
  throw new Error('initdb not found: install PostgreSQL (Debian: apt-get install postgresql)');
}

function asRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function postgresUid(): number {
  return Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
}

function postgresGid(): number {
  return Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
}
