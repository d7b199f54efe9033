import { resetDatabase, resetRedis } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { request } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';
import { SpectrumStandIn } from '../stand-ins/spectrum';
import { accept, manyLines, resetSpectrum, SPECTRUM_JOBS, spectrumEnv, startSpectrum, waitForStatus } from '../export/export-kit';

/** Sums the samples of one metric (a counter's or gauge's, labels matching `labels`). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const own = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, value]) => own[key] === value)) total += Number(match[4]);
  }
  return total;
}

/** /metrics of the real application after a real export through the faulty Spectrum stand-in. */
describe('metrics', () => {
  let standIn: SpectrumStandIn;
  let t: TestApp;
  let admin: UserWithToken;
  let approver: UserWithToken;

  beforeAll(async () => {
    standIn = await startSpectrum();
    resetSpectrum(standIn);
    await resetDatabase();
    await resetRedis();
    t = await startTestApp({ runWorkers: true, jobs: SPECTRUM_JOBS, env: spectrumEnv(standIn) });
    admin = await createUser(t.em(), { erpPermission: 'admin' });
    approver = await createUser(t.em(), { erpPermission: 'standard', canPushToAccounting: true });
  });
  afterAll(async () => {
    await t?.close();
    await standIn?.stop();
  });

  it('is for admins only', async () => {
    expect((await request(t.url, 'GET', '/metrics')).status).toBe(401);
    expect((await request(t.url, 'GET', '/metrics', { token: approver.token })).status).toBe(403);
    const res = await request(t.url, 'GET', '/metrics', { token: admin.token });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('shows the rows written, the faults Spectrum injected, call latency, jobs, queues, submissions and permits', async () => {
    // Every third AddPhase answers the intermittent SOAP fault; the client retries it.
    standIn.configure({ faultRate: 0.3, seed: 11 });
    const submission = await createSubmission(t.em(), { lines: manyLines(20), sentBy: approver.user });
    await accept(t.url, approver.token, submission.id);
    expect(await waitForStatus(submission.id, ['synced', 'out_of_sync', 'failed_to_export'], 60_000)).toBe('synced');
    const injected = standIn.requests('AddPhase').length - 20;
    expect(injected).toBeGreaterThan(0);

    const { text } = await request(t.url, 'GET', '/metrics', { token: admin.token });
    expect(sample(text, 'connector_spectrum_rows_written_total')).toBe(20);
    expect(sample(text, 'connector_spectrum_faults_total', { operation: 'AddPhase', kind: 'fault' })).toBe(injected);
    expect(sample(text, 'connector_spectrum_call_duration_seconds_count', { operation: 'AddPhase', outcome: 'ok' })).toBe(20);
    expect(sample(text, 'connector_job_duration_seconds_count', { job: 'export-submission', outcome: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'connector_submissions', { status: 'synced' })).toBe(1);
    expect(text).toMatch(/^connector_queue_jobs\{queue="export",state="waiting"\} \d+$/m);
    expect(text).toMatch(/^connector_queue_oldest_job_age_seconds\{queue="export",state="waiting"\} [\d.]+$/m);
    expect(text).toMatch(/^connector_spectrum_permits_in_use \d+$/m);
    expect(sample(text, 'connector_spectrum_permits_limit')).toBe(4);
  });
});
