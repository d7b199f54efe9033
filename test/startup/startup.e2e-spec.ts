import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client } from 'pg';
import { pendingSchemaDiff, migrateUp } from '../../src/database/migrate';
import { MIGRATIONS } from '../../src/database/migrations';
import { ENTITIES } from '../../src/entities';
import { databaseUrl, PG_ADMIN_URL, runId, templateDatabase, testEnvironment } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');
/** Each test starts the connector as a child process (ts-node): slow on a busy machine. */
const CHILD_TEST_MS = 150_000;

/** Runs the real entry point (src/main.ts) in a child process and collects its exit. */
function runMain(env: Record<string, string | undefined>, timeoutMs = 90_000): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('start-up', () => {
  it('exits non-zero naming a missing required variable', async () => {
    const env = testEnvironment({ PROCORE_CLIENT_SECRET: undefined, SPECTRUM_URL: '' });
    const { code, output } = await runMain(env);
    expect(code).not.toBe(0);
    expect(output).toContain('PROCORE_CLIENT_SECRET is required');
    expect(output).toContain('SPECTRUM_URL is required');
    expect(output).not.toContain(env.PROCORE_WEBHOOK_SECRET);
  }, CHILD_TEST_MS);

  it('exits non-zero naming DATABASE_URL when it is invalid', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: 'not a url' }));
    expect(code).not.toBe(0);
    expect(output).toContain('DATABASE_URL must be a postgres:// URL');
  }, CHILD_TEST_MS);

  it('exits non-zero naming DATABASE_URL when the database cannot be reached, without its password', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: 'postgres://connector:topsecret@127.0.0.1:1/nowhere' }));
    expect(code).not.toBe(0);
    expect(output).toContain('DATABASE_URL: cannot connect to postgres://connector:***@127.0.0.1:1/nowhere');
    expect(output).not.toContain('topsecret');
  }, CHILD_TEST_MS);
});

describe('migrations', () => {
  const name = `connector_test_${runId()}_empty`;
  let admin: Client;

  beforeAll(async () => {
    admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
  });
  afterAll(async () => {
    await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('apply on an empty database, and the schema then matches the entities', async () => {
    const applied = await migrateUp(databaseUrl(name), ENTITIES);
    expect(applied.length).toBeGreaterThan(0);
    expect(await migrateUp(databaseUrl(name), ENTITIES)).toEqual([]);
    expect(await pendingSchemaDiff(databaseUrl(name), ENTITIES)).toBe('');
  });

  it('keep the audit trail append-only', async () => {
    const client = new Client({ connectionString: databaseUrl(name) });
    await client.connect();
    try {
      await client.query(`insert into audit_event (actor_label, action, created_at) values ('test', 'probe', now())`);
      await expect(client.query(`update audit_event set action = 'changed'`)).rejects.toThrow(/append-only/);
      await expect(client.query(`delete from audit_event`)).rejects.toThrow(/append-only/);
    } finally {
      await client.end();
    }
  });
});

/** Starts the real entry point and resolves once its output matches `ready` (90 s budget: slow machines). */
function startMain(env: Record<string, string | undefined>, ready: RegExp, timeoutMs = 90_000): Promise<{ child: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env },
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle = {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`main did not log ${ready} within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk;
      if (!ready.test(output)) return;
      clearTimeout(timer);
      resolve(handle);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`main exited before it was ready:\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('start-up with pending migrations', () => {
  const behind = `connector_test_${runId()}_behind`;
  const empty = `connector_test_${runId()}_fresh`;
  let admin: Client;
  let missing: string;

  beforeAll(async () => {
    admin = new Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    for (const name of [behind, empty]) await admin.query(`drop database if exists "${name}" with (force)`);
    // A database one migration behind this build: the template, its newest migration "not applied".
    await admin.query(`create database "${behind}" template "${templateDatabase()}"`);
    const client = new Client({ connectionString: databaseUrl(behind) });
    await client.connect();
    try {
      missing = (await client.query<{ name: string }>(`delete from mikro_orm_migrations where id = (select max(id) from mikro_orm_migrations) returning name`)).rows[0].name;
    } finally {
      await client.end();
    }
    await admin.query(`create database "${empty}"`);
  });
  afterAll(async () => {
    for (const name of [behind, empty]) await admin.query(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });

  it('refuses to start, naming the pending migration and `npm run migration:up`', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: databaseUrl(behind), APP_ROLE: 'api', PORT: '1' }));
    expect(code).not.toBe(0);
    expect(output).toContain(`The database has 1 pending migration (${missing})`);
    expect(output).toContain('npm run migration:up');
    expect(output).toContain('MIGRATE_ON_START=true');
    expect(output).not.toContain('Listening on port');
  }, CHILD_TEST_MS);

  it('refuses MIGRATE_ON_START when it is not true or false', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: databaseUrl(empty), MIGRATE_ON_START: 'yes' }));
    expect(code).not.toBe(0);
    expect(output).toContain('MIGRATE_ON_START must be true or false');
  }, CHILD_TEST_MS);

  it('with MIGRATE_ON_START=true, two workers starting at once apply them once (advisory lock), then each serves ready on HEALTH_PORT', async () => {
    const ports = await Promise.all([freePort(), freePort()]);
    const workers = await Promise.all(
      ports.map((port) =>
        startMain(testEnvironment({ DATABASE_URL: databaseUrl(empty), APP_ROLE: 'worker', MIGRATE_ON_START: 'true', HEALTH_PORT: String(port) }), /Worker started/, 300_000),
      ),
    );
    try {
      const applied = workers.map((worker) => Number(/Applied (\d+) migration/.exec(worker.output())?.[1] ?? 0));
      expect(applied.reduce((sum, n) => sum + n, 0)).toBe(MIGRATIONS.length);
      const client = new Client({ connectionString: databaseUrl(empty) });
      await client.connect();
      try {
        const { rows } = await client.query<{ name: string }>('select name from mikro_orm_migrations order by id');
        expect(rows.map((row) => row.name)).toEqual(MIGRATIONS.map((migration) => migration.name));
      } finally {
        await client.end();
      }
      for (const port of ports) {
        const live = await fetch(`http://127.0.0.1:${port}/health/live`);
        expect(live.status).toBe(200);
        let ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
        for (let tries = 0; ready.status === 503 && tries < 150; tries++) {
          await new Promise((resolve) => setTimeout(resolve, 200));
          ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
        }
        const body = (await ready.json()) as { error: unknown; info: unknown };
        expect({ status: ready.status, error: body.error }).toEqual({ status: 200, error: {} });
        expect(body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' }, worker: { status: 'up' } });
      }
    } finally {
      await Promise.all(workers.map((worker) => worker.stop()));
    }
    // Each stopped on SIGTERM by itself (Nest re-raises the signal once shut down), none needed SIGKILL.
    for (const worker of workers) expect(['0', 'SIGTERM']).toContain(String(worker.child.exitCode ?? worker.child.signalCode));
  }, 480_000);
});
