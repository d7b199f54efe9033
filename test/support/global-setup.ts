import { Client } from 'pg';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { databaseName, databaseUrl, PG_ADMIN_URL, templateDatabase } from './test-env';

/**
 * Builds a template database with every migration applied, then one database per jest worker
 * cloned from it: workers never share rows, and no test pays for migrations.
 */
export default async function globalSetup(globalConfig: { maxWorkers: number }): Promise<void> {
  process.env.TEST_RUN_ID = String(process.pid);
  const admin = new Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await dropDatabasesOfFinishedRuns(admin);
    await recreate(admin, templateDatabase());
    migrateInChildProcess(databaseUrl(templateDatabase()));
    const workers = Math.max(1, globalConfig.maxWorkers ?? 1);
    for (let worker = 1; worker <= workers; worker++) {
      await recreate(admin, databaseName(worker), templateDatabase());
    }
  } finally {
    await admin.end();
  }
}

/** Databases of earlier runs whose process is gone. */
async function dropDatabasesOfFinishedRuns(admin: Client): Promise<void> {
  const { rows } = await admin.query<{ datname: string }>(`select datname from pg_database where datname like 'connector_test_%'`);
  for (const { datname } of rows) {
    const pid = Number(/^connector_test_(\d+)_/.exec(datname)?.[1]);
    if (pid && pid !== process.pid && isAlive(pid)) continue;
    await admin.query(`drop database if exists "${datname}" with (force)`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function recreate(admin: Client, name: string, template?: string): Promise<void> {
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.query(`create database "${name}"${template ? ` template "${template}"` : ''}`);
}

/**
 * The ORM keeps its metadata in a process-wide store; running it here would leak objects of this
 * realm into tests that jest runs in-band. So the migrations run in a child process, through the
 * same CLI command integrators use.
 */
function migrateInChildProcess(url: string): void {
  const root = join(__dirname, '..', '..');
  execFileSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(root, 'src', 'cli.ts'), 'migration:up'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, TS_NODE_PROJECT: join(root, 'tsconfig.json') },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}
