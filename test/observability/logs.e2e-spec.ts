import { Logger } from '@nestjs/common';
import { resetDatabase, resetRedis } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { request } from '../support/http';
import { LogCapture } from '../support/log-capture';
import { startTestApp, TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, manyLines, resetSpectrum, SPECTRUM_JOBS, spectrumEnv, startSpectrum, waitForStatus } from '../export/export-kit';

const SMTP_PASSWORD = 'smtp-pass-7f3a9c1e5b';
const OAUTH_CODE = 'oauth-code-4d2b8e6f0a';

/** Structured logs of the real application: JSON lines, request and job ids, no secret ever. */
describe('structured logs', () => {
  const logs = new LogCapture();
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let admin: UserWithToken;
  let approver: UserWithToken;

  beforeAll(async () => {
    standIn = await startSpectrum();
    resetSpectrum(standIn);
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({
      runWorkers: true,
      jobs: SPECTRUM_JOBS,
      logger: ['log', 'warn', 'error'],
      logStream: logs,
      env: spectrumEnv(standIn, { SMTP_URL: `smtp://mailer:${SMTP_PASSWORD}@127.0.0.1:9` }),
    });
    admin = await createUser(t.em(), { erpPermission: 'admin' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });
  afterAll(async () => {
    await t?.close();
    await standIn?.stop();
  });

  it('every line is one JSON object with a level, a time and a message', () => {
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const record of logs.records()) {
      expect(record).toEqual(expect.objectContaining({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) }));
    }
  });

  it('keeps an acceptable X-Request-Id, echoes it, and puts it on the lines of its request', async () => {
    const res = await request(t.url, 'GET', '/api/v1/budgets', { token: admin.token, headers: { 'x-request-id': 'trace-42.a' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('trace-42.a');
    const line = await waitForLine((r) => r.requestId === 'trace-42.a');
    expect(line).toMatchObject({ msg: expect.stringMatching(/^GET \/api\/v1\/budgets 200 in \d+ ms$/), req: { method: 'GET' }, res: { statusCode: 200 } });
  });

  it('replaces an unacceptable X-Request-Id with its own', async () => {
    const res = await request(t.url, 'GET', '/api/v1/budgets', { token: admin.token, headers: { 'x-request-id': `bad id ${'x'.repeat(200)}` } });
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    await waitForLine((r) => r.requestId === id);
  });

  it('puts the job, queue, submission and Procore project on every line of a job', async () => {
    const submission = await createSubmission(t.em(), { lines: manyLines(6), sentBy: approver.user, procoreProjectId: '777001' });
    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'])).toBe('synced');
    const done = await waitForLine((r) => typeof r.msg === 'string' && r.msg.startsWith(`Budget submission ${submission.id}: exported`));
    expect(done).toMatchObject({
      job: 'export-submission',
      queue: 'export',
      jobId: expect.stringMatching(/^export-submission:\d+$/),
      submissionId: submission.id,
      procoreProjectId: '777001',
      workId: expect.any(String),
    });
  });

  it('never writes a secret: tokens, cookies, OAuth codes, configured secrets, URL passwords', async () => {
    await request(t.url, 'GET', `/console/auth/procore/callback?code=${OAUTH_CODE}&state=abc`, { headers: { cookie: `connector_session=${admin.token}` } });
    await request(t.url, 'GET', '/api/v1/budgets', { headers: { authorization: `Bearer ${admin.token}x` } });
    await request(t.url, 'POST', '/webhooks/procore', { headers: { authorization: t.config.procore.webhookSecret }, body: { id: 1 } });
    // Code that logs carelessly is scrubbed too.
    new Logger('Careless').warn(
      `connecting to ${t.config.mail.smtpUrl} as ${t.config.procore.clientSecret} with Authorization: Bearer ${admin.token} (secret ${t.config.procore.webhookSecret})`,
    );
    new Logger('Careless').error({ msg: 'options', password: 'hunter2-hunter2', nested: { accessToken: admin.token } });
    await waitForLine((r) => r.context === 'Careless' && r.level === 'error');
    const text = logs.text;
    for (const secret of [admin.token, SMTP_PASSWORD, OAUTH_CODE, t.config.procore.webhookSecret, t.config.procore.clientSecret, 'hunter2-hunter2']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('smtp://mailer:[redacted]@127.0.0.1:9');
  });

  async function waitForLine(match: (record: Record<string, any>) => boolean): Promise<Record<string, any>> {
    for (let i = 0; i < 200; i++) {
      const found = logs.records().find(match);
      if (found) return found;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`no such log line in:\n${logs.text.slice(-4000)}`);
  }
});
