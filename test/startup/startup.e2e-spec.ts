import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Client } from 'pg';
import { pendingSchemaDiff, migrateUp } from '../../src/database/migrate';
import { ENTITIES } from '../../src/entities';
import { databaseUrl, PG_ADMIN_URL, runId, testEnvironment } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');

/** Runs the real entry point (src/main.ts) in a child process and collects its exit. */
function runMain(env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
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
  });

  it('exits non-zero naming DATABASE_URL when it is invalid', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: 'not a url' }));
    expect(code).not.toBe(0);
    expect(output).toContain('DATABASE_URL must be a postgres:// URL');
  });

  it('exits non-zero naming DATABASE_URL when the database cannot be reached, without its password', async () => {
    const { code, output } = await runMain(testEnvironment({ DATABASE_URL: 'postgres://connector:topsecret@127.0.0.1:1/nowhere' }));
    expect(code).not.toBe(0);
    expect(output).toContain('DATABASE_URL: cannot connect to postgres://connector:***@127.0.0.1:1/nowhere');
    expect(output).not.toContain('topsecret');
  });
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
