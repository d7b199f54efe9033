/**
 * The API under load while exports run (issue 12, "API under load"):
 *   npx ts-node --transpile-only bench/api-load.ts
 *
 * The connector as the chaos suite runs it (test/chaos/lab.ts): the built connector as one API and
 * three worker processes on a private PostgreSQL and Redis, ten budgets of 2,000 rows sent,
 * accepted and exported at once through the Spectrum stand-in (30 ms latency, 10 % faults,
 * SPECTRUM_CONCURRENCY 8) — no kills or restarts (the API load figure is measured with exports running, without faults). While the exports
 * run, autocannon (in processes of its own) asks BENCH_RATE (200) requests/s of the budget list and
 * BENCH_RATE requests/s of the details of a 2,000-line budget for BENCH_DURATION_S (60) s, both at
 * once, with an approver's API token. Reports p50/p90/p99/max latency, errors and non-2xx answers per
 * endpoint, the API process's CPU use, and whether the exports ran for the whole window; writes
 * bench/results/api-load.json. Target: p99 under 50 ms and no error.
 *
 * Environment: BENCH_RATE, BENCH_DURATION_S, BENCH_CONNECTIONS (32), BENCH_DETAILS_QUERY (e.g.
 * `linesPerPage=100&rowsPerPage=100`, default none: the API's default page of 1,000 lines and rows).
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../test/chaos/infra/connector-build';
import { ConnectorLab } from '../test/chaos/lab';

const run = promisify(execFile);
const RATE = Number(process.env.BENCH_RATE ?? 200);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 60);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DETAILS_QUERY = process.env.BENCH_DETAILS_QUERY ?? '';
const BUDGETS = 10;
const ROWS = 2_000;
const P99_TARGET_MS = 50;

interface Load {
  name: string;
  path: string;
  requests: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  bytesPerResponse: number;
}

async function main(): Promise<void> {
  const outDir = join(ROOT, 'tmp', 'bench-api-load');
  mkdirSync(outDir, { recursive: true });
  const log = (line: string) => console.log(line);
  const lab = await ConnectorLab.create({
    budgets: BUDGETS,
    rowsPerBudget: ROWS,
    approvers: 1,
    spectrumConcurrency: 8,
    spectrumLatencyMs: 30,
    spectrumFaultRate: 0.1,
    seed: 12,
    outDir,
    handleSignals: true,
    log,
  });
  try {
    await lab.startApi();
    const features = await lab.detectFeatures();
    await Promise.all([1, 2, 3].map(async (i) => (await lab.startWorker(`worker-${i}`, features)).ready));

    const ids = await Promise.all(
      lab.budgets.map(async (budget) => {
        const answer = await lab.call('POST', '/api/v1/budgets', { procoreProjectId: String(budget.projectId) }, lab.senderToken);
        if (answer.status !== 202) throw new Error(`send answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        return String(answer.body.id);
      }),
    );
    await waitFor(async () => (await statuses(lab, ids)).every((s) => s === 'ready_to_export'), 'every budget ready to export');
    log(`${BUDGETS} budgets of ${ROWS.toLocaleString('en-US')} rows ready; accepting them all`);
    await Promise.all(ids.map((id) => lab.call('POST', `/api/v1/budgets/${id}/accept`)));

    const detailsPath = `/api/v1/budgets/${ids[0]}${DETAILS_QUERY ? `?${DETAILS_QUERY}` : ''}`;
    const sample = await lab.call('GET', detailsPath);
    log(`details of submission ${ids[0]}: ${sample.body.lines?.length} lines and ${sample.body.rows?.length} rows of ${sample.body.linesTotal}/${sample.body.rowsTotal} in one answer`);

    const appliedBefore = lab.spectrum.appliedAddPhases.length;
    const cpuBefore = cpuSeconds(lab.api!.pid);
    const load = loadavg()[0];
    log(`load: ${RATE} requests/s on the list and ${RATE} on the details for ${DURATION_S} s (load average ${load.toFixed(1)}) …`);
    const started = Date.now();
    const [list, details] = await Promise.all([
      autocannon('budget list', lab.apiUrl, '/api/v1/budgets', lab.adminToken),
      autocannon('details, 2,000-line budget', lab.apiUrl, detailsPath, lab.adminToken),
    ]);
    const seconds = (Date.now() - started) / 1000;
    const apiCpu = (cpuSeconds(lab.api!.pid) - cpuBefore) / seconds;
    const appliedDuring = lab.spectrum.appliedAddPhases.length - appliedBefore;
    const finished = await statuses(lab, ids);
    const exportsRanThroughout = finished.some((s) => s === 'exporting');

    for (const result of [list, details]) {
      console.log(
        `${result.name.padEnd(30)} ${result.perSecond.toFixed(0).padStart(4)} req/s  p50 ${ms(result.p50)}  p90 ${ms(result.p90)}  p99 ${ms(result.p99)}  max ${ms(result.max)}  errors ${result.errors + result.timeouts}  non-2xx ${result.non2xx}  (${result.bytesPerResponse.toLocaleString('en-US')} bytes each)`,
      );
    }
    console.log(`API process CPU: ${(apiCpu * 100).toFixed(0)} % of one core; Spectrum rows written meanwhile: ${appliedDuring} (${(appliedDuring / seconds).toFixed(0)}/s); exports still running at the end: ${exportsRanThroughout ? 'yes' : 'no'}`);
    const targets = {
      listP99Under50ms: list.p99 < P99_TARGET_MS,
      detailsP99Under50ms: details.p99 < P99_TARGET_MS,
      noErrors: [list, details].every((r) => r.errors + r.timeouts + r.non2xx === 0),
      exportsRanThroughout,
    };
    console.log(`Targets: ${Object.entries(targets).map(([name, ok]) => `${name} ${ok ? 'ok' : 'NOT MET'}`).join(', ')}`);
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'api-load.json'),
      `${JSON.stringify({ ranAt: new Date().toISOString(), node: process.version, rate: RATE, durationS: DURATION_S, connections: CONNECTIONS, detailsQuery: DETAILS_QUERY, loadAverage: load, apiCpuShare: apiCpu, spectrumRowsWrittenPerSecond: appliedDuring / seconds, loads: [list, details], targets }, null, 2)}\n`,
    );
    console.log('Written to bench/results/api-load.json');
    if (!targets.listP99Under50ms || !targets.detailsP99Under50ms || !targets.noErrors) process.exitCode = 1;
  } finally {
    await lab.close();
  }
}

/** autocannon in a process of its own (its own event loop, not the stand-ins'), at a fixed rate. */
async function autocannon(name: string, base: string, path: string, token: string): Promise<Load> {
  const { stdout } = await run(
    process.execPath,
    [
      require.resolve('autocannon/autocannon.js'),
      '--json',
      '--connections',
      String(CONNECTIONS),
      '--overallRate',
      String(RATE),
      '--duration',
      String(DURATION_S),
      '--timeout',
      '10',
      '--headers',
      `authorization=Bearer ${token}`,
      `${base}${path}`,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const result = JSON.parse(stdout) as {
    requests: { total: number; average: number };
    latency: { p50: number; p90: number; p99: number; max: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    throughput: { total: number };
  };
  return {
    name,
    path: path.replace(/\/\d+/, '/:id'),
    requests: result.requests.total,
    perSecond: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    bytesPerResponse: Math.round(result.throughput.total / Math.max(1, result.requests.total)),
  };
}

async function statuses(lab: ConnectorLab, ids: string[]): Promise<string[]> {
  const rows = await lab.query<{ status: string }>(`select status from submission where id = any($1::bigint[])`, [ids]);
  return rows.map((row) => row.status);
}

async function waitFor(probe: () => Promise<boolean>, what: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** User + system CPU seconds a process has used (Linux /proc). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const ms = (value: number) => `${value.toFixed(1).padStart(6)} ms`;

main().catch((error: Error) => {
  console.error(`Benchmark failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
