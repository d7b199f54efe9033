import { JobName } from '../../src/queue/queue.contract';
import { Cents } from '../../src/common/money';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { startTestApp, TestApp } from '../support/test-app';
import { LineSpec } from '../support/factories';
import { api } from '../support/http';
import { waitFor } from '../support/wait';
import { SpectrumStandIn, SpectrumStandInOptions } from '../stand-ins/spectrum';
import { RecordedRequest } from '../stand-ins/spectrum/spectrum-stand-in';

/** Shared by the export and reconciliation suites: the stand-in, the app's env, waiting helpers. */

/** The jobs this area owns: the worker under test takes only these. */
export const SPECTRUM_JOBS = [JobName.ExportSubmission, JobName.ReconcileSubmission, JobName.ReconcileSweep, JobName.SweepPendingWork];

export const JOB = '26-101';
export const COST_TYPES = ['L', 'M', 'S', 'E', 'O'];

export async function startSpectrum(options: SpectrumStandInOptions = {}): Promise<SpectrumStandIn> {
  return SpectrumStandIn.start({ seed: 7, ...options });
}

/** Back to a clean company with one active job and the usual cost types; injections off. */
export function resetSpectrum(standIn: SpectrumStandIn, options: Partial<SpectrumStandInOptions> = {}): void {
  standIn.configure({
    latencyMs: 0,
    faultRate: 0,
    truncateRate: 0,
    truncate: {},
    currentEstimateDisplayOnly: false,
    maxConcurrent: 1_000_000,
    seed: 7,
    ...options,
  });
  standIn.reset();
  standIn.addJob({ jobNumber: JOB, description: 'Riverside Medical Office Building', statusCode: 'A' });
  standIn.addJob({ jobNumber: '24-310', description: 'Elm Street Parking Garage', statusCode: 'C' });
  for (const code of COST_TYPES) standIn.addCostType(code);
}

/** The application's environment against the stand-in. */
export function spectrumEnv(standIn: SpectrumStandIn, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SPECTRUM_URL: standIn.url,
    SPECTRUM_AUTHORIZATION_ID: standIn.options.authorizationId,
    SPECTRUM_COMPANY_CODE: standIn.options.companyCode,
    SPECTRUM_CONCURRENCY: '4',
    SPECTRUM_TIMEOUT_MS: '5000',
    ...extra,
  };
}

/** `count` lines on distinct rows with varied amounts, some negative changes, every cost type. */
export function manyLines(count: number, options: { phasePrefix?: string; costTypes?: string[] } = {}): LineSpec[] {
  const costTypes = options.costTypes ?? COST_TYPES;
  return Array.from({ length: count }, (_, i) => {
    const phase = `${options.phasePrefix ?? '2'}${String(Math.floor(i / costTypes.length) + 1).padStart(4, '0')}`;
    const original = BigInt(100_00 + ((i * 7919) % 9_000_000));
    const changes = BigInt(((i * 31) % 5000) - 2500);
    return {
      costCode: `${phase.slice(0, 2)}-${phase.slice(2)}`,
      category: costTypes[i % costTypes.length],
      phase,
      costType: costTypes[i % costTypes.length],
      original,
      changes,
      description: `Phase ${phase}`,
    };
  });
}

export async function accept(url: string, token: string, submissionId: string): Promise<void> {
  const res = await api(url, token).post(`/api/v1/budgets/${submissionId}/accept`);
  if (res.status !== 202) throw new Error(`accept answered ${res.status}: ${res.text}`);
}

export async function statusOf(submissionId: string): Promise<string> {
  const [row] = await sql<{ status: string }>(`select status from submission where id = $1`, [submissionId]);
  return row?.status;
}

export function waitForStatus(submissionId: string, statuses: string[], timeoutMs = 30_000): Promise<string> {
  return waitFor(() => statusOf(submissionId), `submission ${submissionId} to be ${statuses.join(' or ')}`, { until: (status) => statuses.includes(status), timeoutMs });
}

export interface LedgerRow {
  id: string;
  phase: string;
  cost_type: string;
  original_budget: string;
  revised_estimate: string;
  export_state: string;
  export_error: { code: string; message: string; column: string | null } | null;
  export_attempts: number;
  written_at: Date | null;
  spectrum_action: string | null;
}

export function ledger(submissionId: string): Promise<LedgerRow[]> {
  return sql<LedgerRow & Record<string, unknown>>(
    `select id::text, phase, cost_type, original_budget::text, revised_estimate::text, export_state, export_error,
            export_attempts, written_at, spectrum_action
       from submission_row where submission_id = $1 order by position`,
    [submissionId],
  );
}

/** Every row of the submission holds exactly its original and revised estimate in the stand-in. */
export async function expectExactInSpectrum(standIn: SpectrumStandIn, submissionId: string, job = JOB): Promise<void> {
  const rows = await ledger(submissionId);
  const actual = rows.map((row) => {
    const spectrum = standIn.getPhase(job, row.phase, row.cost_type);
    return {
      row: `${row.phase}/${row.cost_type}`,
      original: spectrum?.originalEstCost ?? null,
      current: spectrum?.currentEstCost ?? null,
    };
  });
  const expected = rows.map((row) => ({
    row: `${row.phase}/${row.cost_type}`,
    original: cents(row.original_budget),
    current: cents(row.revised_estimate),
  }));
  expect(actual).toEqual(expected);
}

function cents(text: string): Cents {
  const [whole, fraction = '00'] = text.split('.');
  const negative = whole.startsWith('-');
  const value = BigInt(whole.replace('-', '')) * 100n + BigInt(fraction.padEnd(2, '0').slice(0, 2));
  return negative ? -value : value;
}

const rowOf = (request: RecordedRequest) =>
  [request.fields.Job_Number, request.fields.Phase_Code, request.fields.Cost_Type].map((v) => (v ?? '').trim()).join('|');

/**
 * For each row, the AddPhase calls whose success reached the connector (answered `ok`, in full).
 * "Never re-sent after the connector saw its success" means: exactly one such call, and no call for
 * that row after it.
 */
export function sendsAfterSeenSuccess(standIn: SpectrumStandIn): { rowsWithSuccess: number; violations: string[] } {
  const byRow = new Map<string, RecordedRequest[]>();
  for (const request of standIn.requests('AddPhase')) {
    const list = byRow.get(rowOf(request)) ?? [];
    list.push(request);
    byRow.set(rowOf(request), list);
  }
  const violations: string[] = [];
  let rowsWithSuccess = 0;
  for (const [row, requests] of byRow) {
    requests.sort((a, b) => a.seq - b.seq);
    const ok = requests.filter((r) => r.outcome === 'ok');
    if (ok.length) rowsWithSuccess++;
    if (ok.length > 1) violations.push(`${row}: ${ok.length} successful AddPhase calls`);
    if (ok.length === 1 && requests[requests.length - 1] !== ok[0]) violations.push(`${row}: sent again after its success`);
  }
  return { rowsWithSuccess, violations };
}

/**
 * Registers the suite's lifecycle: a Spectrum stand-in and the application with its Spectrum
 * workers start once before all tests (on an empty database) and stop after them.
 */
export function useSpectrumApp(onStart: (standIn: SpectrumStandIn, app: TestApp) => void, env: Record<string, string> = {}): void {
  let standIn: SpectrumStandIn | undefined;
  let app: TestApp | undefined;
  beforeAll(async () => {
    standIn = await startSpectrum();
    await resetDatabase();
    await resetRedis();
    app = await startTestApp({ runWorkers: true, jobs: SPECTRUM_JOBS, env: spectrumEnv(standIn, env) });
    onStart(standIn, app);
  });
  afterAll(async () => {
    await app?.close();
    await standIn?.stop();
  });
}
