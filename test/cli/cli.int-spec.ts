import { MikroORM } from '@mikro-orm/postgresql';
import { cliProgram, runCli } from '../../src/cli';
import { ENTITIES } from '../../src/entities';
import { ormOptions } from '../../src/database/mikro-orm.config';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { databaseUrl, testEnvironment } from '../support/test-env';

/**
 * Runs the CLI in this process, capturing what it writes; resolves to the exit code it would end
 * with. (A process each would cost ts-node's start; test/access and test/procore run it as one.)
 */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((stdout += String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true)),
    jest.spyOn(console, 'log').mockImplementation((...parts) => void (stdout += `${parts.join(' ')}\n`)),
    jest.spyOn(console, 'error').mockImplementation((...parts) => void (stderr += `${parts.join(' ')}\n`)),
  ];
  try {
    const code = await runCli(args);
    return { code, stdout, stderr };
  } finally {
    spies.forEach((spy) => spy.mockRestore());
    process.exitCode = undefined;
  }
}

describe('the CLI (npm run cli)', () => {
  const commands = cliProgram().commands.map((command) => command.name()).filter((name) => name !== 'help');

  it('lists the same commands as before, the README names each of them', () => {
    expect(commands).toEqual([
      'migration:up',
      'migration:check',
      'migration:create',
      'users:create',
      'tokens:create',
      'tokens:list',
      'tokens:revoke',
      'procore:register-webhooks',
      'procore:sync-users',
      'jobs:run',
    ]);
  });

  it('answers --help for the program and every command on stdout with exit 0', async () => {
    const top = await cli('--help');
    expect(top).toMatchObject({ code: 0, stderr: '' });
    for (const name of commands) expect(top.stdout).toContain(name);
    for (const name of commands) {
      const help = await cli(name, '--help');
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain(`Usage: npm run cli -- ${name}`);
      expect(await cli('help', name)).toEqual(help);
    }
    expect((await cli('users:create', '--help')).stdout).toMatch(/--permission <permission>[\s\S]*--can-push-to-accounting[\s\S]*--no-digest/);
    expect((await cli('jobs:run', '--help')).stdout).toMatch(/daily-summary +a worker records and sends the daily summary/);
  });

  it('refuses an unknown command, option or argument, and a bad value, on stderr with exit 2', async () => {
    const unknown = await cli('users:delete');
    expect(unknown).toMatchObject({ code: 2, stdout: '' });
    expect(unknown.stderr).toContain("error: unknown command 'users:delete'");
    expect(unknown.stderr).toContain('npm run cli -- --help');

    const option = await cli('tokens:list', '--user', 'a@example.com', '--all');
    expect(option).toMatchObject({ code: 2, stdout: '' });
    expect(option.stderr).toContain("error: unknown option '--all'");
    expect(option.stderr).toContain('npm run cli -- tokens:list --help');

    const job = await cli('jobs:run', 'weekly-summary');
    expect(job.code).toBe(2);
    expect(job.stderr).toMatch(/'weekly-summary' is invalid for argument 'job'. Allowed choices are daily-summary, poll-projects/);

    const missing = await cli('jobs:run');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("error: missing required argument 'job'");

    const value = await cli('users:create', '--email', 'nope', '--permission', 'owner');
    expect(value.code).toBe(2);
    expect(value.stderr).toContain('error: --email must be an email address; --name is required; --permission must be admin, standard or read_only');

    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: npm run cli -- <command> [options]');
  });

  describe('jobs:run says what it did', () => {
    const saved = { ...process.env };
    let orm: MikroORM;
    beforeAll(async () => {
      Object.assign(process.env, testEnvironment());
      orm = await MikroORM.init(ormOptions(databaseUrl(), ENTITIES));
    });
    afterAll(async () => {
      process.env = saved;
      await orm?.close(true);
    });
    beforeEach(async () => {
      await resetDatabase();
      await resetRedis();
    });

    it('daily-summary: nothing waits, no summary today; nothing is queued', async () => {
      await createUser(orm.em.fork() as never, { erpPermission: 'admin', canPushToAccounting: true });
      const result = await cli('jobs:run', 'daily-summary');
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout.trim()).toBe('Nothing waits: no budget awaits acceptance, so no summary today (nothing queued).');
      expect(await sql('select id from pending_work')).toEqual([]);
    });

    it('daily-summary: budgets waiting but no approver subscribed; nothing is queued', async () => {
      await createUser(orm.em.fork() as never, { erpPermission: 'admin', canPushToAccounting: true, subscribedToDigest: false });
      await createSubmission(orm.em.fork() as never, { status: 'ready_to_export' });
      const result = await cli('jobs:run', 'daily-summary');
      expect(result.stdout.trim()).toBe('1 budget(s) await acceptance, but no active approver is subscribed to the daily summary (nothing queued).');
      expect(await sql('select id from pending_work')).toEqual([]);
    });

    it('daily-summary: queued once a day, saying for how many budgets and approvers', async () => {
      await createUser(orm.em.fork() as never, { erpPermission: 'admin', canPushToAccounting: true });
      await createSubmission(orm.em.fork() as never, { status: 'ready_to_export' });
      await createSubmission(orm.em.fork() as never, { status: 'ready_to_export' });
      const first = await cli('jobs:run', 'daily-summary');
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toMatch(/^Queued: the daily summary \(pending work \d+\) of 2 budget\(s\) awaiting acceptance, to 1 subscribed approver\(s\); a running worker records and sends the daily summary, once per approver and day\.$/m);
      expect((await cli('jobs:run', 'daily-summary')).stdout).toMatch(/^Already queued: the daily summary/m);
      expect(await sql(`select job_name from pending_work`)).toEqual([{ job_name: 'daily-summary' }]);
    });

    it('another job: queued, saying what a worker will do', async () => {
      const result = await cli('jobs:run', 'reconcile-sweep');
      expect(result.stdout).toMatch(/^Queued: reconcile-sweep \(pending work \d+\); a running worker reconciles every exported or out-of-sync budget with Spectrum\.$/m);
    });
  });
});
