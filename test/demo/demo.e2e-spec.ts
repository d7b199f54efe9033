import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PG_ADMIN_URL, runId } from '../support/test-env';

const ROOT = join(__dirname, '..', '..');

/** Keeps the README's quick start true: `npm run demo` walks a budget to synced and exits cleanly. */
describe('npm run demo', () => {
  it('runs the whole flow against the stand-ins and ends synced', async () => {
    const database = PG_ADMIN_URL.replace(/\/[^/]*$/, `/connector_test_${runId()}_demo`);
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('npm', ['run', 'demo', '--', '--exit'], {
        cwd: ROOT,
        env: { ...process.env, DEMO_DATABASE_URL: database, DEMO_REDIS_URL: `${process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'}/13`, DEMO_PORT: '0' },
      });
      let text = '';
      child.stdout.on('data', (chunk) => (text += chunk));
      child.stderr.on('data', (chunk) => (text += chunk));
      child.on('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    expect({ code, output }).toMatchObject({ code: 0 });
    expect(output).toContain('status: synced');
    expect(output).toContain('ERP Integrations Daily Summary');
    expect(output).toMatch(/Budget rejected: Harbor Logistics Warehouse/);
    expect(output).toMatch(/API token: psc_\S+/);
    expect(output).toMatch(/sign in as Alex with one click on http:\/\/127\.0\.0\.1:\d+\/console\/sign-in#token=psc_\S+/);
    expect(output).toMatch(/\/console\/auth\/procore   \(one click: "Sign in with Procore" as Marcus Oyelaran/);
    expect(output).toMatch(/in the console: http:\/\/127\.0\.0\.1:\d+\/console\/budgets\/\d+/);
  }, 180_000);
});
