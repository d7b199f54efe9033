import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTransport } from 'nodemailer';
import type { AppConfig } from '../../src/config/app-config';
import { ProcoreClient } from '../../src/procore/client/procore-client';
import { BudgetReader } from '../../src/procore/ingestion/budget-reader.service';
import { mapBudget } from '../../src/procore/mapping/budget-mapping';
import { EMPTY_MAPPING } from '../../src/procore/mapping/mapping-file';
import { compareWithSpectrum } from '../../src/reconciliation/reconciliation-comparer';
import { SpectrumSoapClient } from '../../src/spectrum/client/spectrum-soap.client';
import { checkRows, findJob, planExport } from '../../src/spectrum/export-plan';
import { SpectrumRowIndex } from '../../src/spectrum/spectrum-row-index';
import { spectrumRow } from '../support/rows';
import { waitFor } from '../support/wait';

/**
 * `npm run stand-ins` (test/stand-ins/main.ts) as a newcomer runs it: a process of its own, which
 * prints the environment lines for the connector. The connector's own clients, configured from
 * those lines alone, reach all three stand-ins; and the sample Procore budget, exported into the
 * Spectrum stand-in's default data the way the exporter plans it, reconciles `synced`.
 */
const ROOT = join(__dirname, '..', '..');

describe('npm run stand-ins', () => {
  let child: ChildProcess;
  let output = '';
  let env: Record<string, string>;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stand-ins-'));
    child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'test/stand-ins/main.ts'], {
      cwd: ROOT,
      // Free ports, so that a run beside other tests (or a newcomer's own stand-ins) never collides.
      env: {
        ...process.env,
        STAND_INS_PROCORE_PORT: '0',
        STAND_INS_SPECTRUM_PORT: '0',
        STAND_INS_SMTP_PORT: '0',
        STAND_INS_INBOX_PORT: '0',
        STAND_INS_ENV_FILE: join(dir, 'stand-ins.env'),
        STAND_INS_COMMANDS: 'stdin',
        TS_NODE_TRANSPILE_ONLY: 'true',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Stand-ins ready" within 45 s:\n${output}`)), 45_000);
      const check = () => {
        if (output.includes('Stand-ins ready')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
    });
    env = Object.fromEntries(
      output
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]+)=(.*)$/.exec(line.trim()))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => [match[1], match[2]]),
    );
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints every line the connector needs to reach them, and writes them to the env file', () => {
    for (const name of [
      'PROCORE_API_URL',
      'PROCORE_LOGIN_URL',
      'PROCORE_CLIENT_ID',
      'PROCORE_CLIENT_SECRET',
      'PROCORE_COMPANY_ID',
      'PROCORE_WEBHOOK_SECRET',
      'SPECTRUM_URL',
      'SPECTRUM_AUTHORIZATION_ID',
      'SPECTRUM_COMPANY_CODE',
      'SMTP_URL',
      'MAIL_FROM',
    ]) {
      expect(env[name]).toBeTruthy();
    }
    expect(env.PROCORE_WEBHOOK_SECRET.length).toBeGreaterThanOrEqual(32);
    const written = readFileSync(join(dir, 'stand-ins.env'), 'utf8');
    for (const [name, value] of Object.entries(env)) expect(written).toContain(`${name}=${value}\n`);
  });

  it('Procore answers the connector\'s client: a token, then the sample project and its budget', async () => {
    const client = procoreClient();
    expect(await client.getProject(1001)).toMatchObject({ id: 1001, name: 'Riverside Medical Office Building', project_number: '26-101' });
    expect(await client.getBudgetLock(1001)).toEqual(expect.objectContaining({ locked: false }));
  });

  it('Spectrum answers the connector\'s client: company ABC with job 26-101 active', async () => {
    const client = spectrumClient();
    try {
      expect(findJob(await client.getJobs(), '26-101')).toMatchObject({ jobNumber: '26-101', statusCode: 'A' });
    } finally {
      await client.close();
    }
  });

  it('SMTP accepts a message, and the inbox shows it', async () => {
    const transport = createTransport(env.SMTP_URL);
    try {
      await transport.sendMail({ from: env.MAIL_FROM, to: 'newcomer@example.com', subject: 'Stand-ins check', text: 'hello' });
    } finally {
      transport.close();
    }
    const inbox = /^Inbox\s+(\S+?)\/?$/m.exec(output)![1];
    const messages = (await (await fetch(`${inbox}/messages.json`)).json()) as Array<{ subject: string }>;
    expect(messages.map((message) => message.subject)).toContain('Stand-ins check');
  });

  it('the sample budget, exported as the exporter plans it, reconciles synced (not out_of_sync)', async () => {
    const config = { procore: { budgetViewId: null, revisedColumn: 'Revised Budget' } } as unknown as AppConfig;
    const { source } = await new BudgetReader(procoreClient(), config).read(1001);
    const snapshot = mapBudget(source, EMPTY_MAPPING);
    expect(snapshot).toMatchObject({ job: '26-101', problemCount: 0 });
    const rows = snapshot.rows.map((row) => spectrumRow({ ...row, job: row.job || '26-101' }));

    const client = spectrumClient();
    try {
      const index = new SpectrumRowIndex(await client.getPhases('26-101'));
      expect(checkRows(rows, index, { costTypes: null })).toEqual([]);
      const plan = planExport(rows, index, 'J');
      const refused = [];
      for (const write of plan.writes) {
        const result = await client.addPhase(write.fields);
        if (!result.ok) refused.push({ fields: write.fields, errors: result.errors });
      }
      expect(refused).toEqual([]);
      const comparison = compareWithSpectrum({ rows, spectrum: await client.getPhases('26-101'), tolerance: 0n });
      expect({ outcome: comparison.outcome, varianceCount: comparison.varianceCount }).toEqual({ outcome: 'synced', varianceCount: 0 });
    } finally {
      await client.close();
    }
  });

  it('"send" typed at it locks the sample budget in Procore, as a project manager\'s Send to ERP does', async () => {
    const before = output.length;
    child.stdin!.write('send\n');
    await waitFor(() => output.slice(before).includes('budget 1001 locked'), 'the runner to answer "send"', 10_000);
    expect(output.slice(before)).toContain('no hook registered yet');
    expect(await procoreClient().getBudgetLock(1001)).toEqual(expect.objectContaining({ locked: true }));
  });

  it('stops on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
  });

  function procoreClient(): ProcoreClient {
    return new ProcoreClient({
      apiUrl: env.PROCORE_API_URL,
      loginUrl: env.PROCORE_LOGIN_URL,
      clientId: env.PROCORE_CLIENT_ID,
      clientSecret: env.PROCORE_CLIENT_SECRET,
      companyId: Number(env.PROCORE_COMPANY_ID),
      baseDelayMs: 5,
    });
  }

  function spectrumClient(): SpectrumSoapClient {
    return new SpectrumSoapClient({
      url: env.SPECTRUM_URL,
      authorizationId: env.SPECTRUM_AUTHORIZATION_ID,
      companyCode: env.SPECTRUM_COMPANY_CODE,
      auth: 'none',
      timeoutMs: 10_000,
    });
  }
});
