/**
 * The API under load while exports run (issue 12, "API under load"):
 *   npx ts-node --transpile-only bench/api-load.ts [--quick]
 *
 * The connector as the chaos suite runs it (test/chaos/lab.ts, ConnectorLab): the built connector
 * as one API and three worker processes on a private PostgreSQL and Redis, ten budgets of 2,000
 * rows sent, accepted and exported at once through the Spectrum stand-in (30 ms latency, 10 %
 * faults, SPECTRUM_CONCURRENCY 8) — no kills or restarts (the API load figure is measured with exports running, without faults). While the
 * exports run, a constant-rate load (bench/support/constant-rate.ts, in a process of its own: each
 * request sent when it falls due, its latency counted from then, as wrk2 or k6's constant arrival
 * rate do) asks BENCH_RATE (200) requests/s of the budget list and BENCH_RATE requests/s of the
 * details of a 2,000-line budget, both at once, for BENCH_DURATION_S (60) s, with an admin's API
 * token. (autocannon's --overallRate sends each connection's share of a second back to back when
 * the second starts: 200 requests arrive as one burst every second, and its latencies measure how
 * long a burst takes to drain, not the latency at 200 requests/s.) Once per details page
 * size: 100 lines and 100 rows (a screen's worth, as the console pages them), then the API's
 * default of 1,000 lines and 1,000 rows. A 3 s warm-up at a quarter of the rate comes first and is
 * not counted. Reports p50/p90/p99/max latency, errors, timeouts and non-2xx answers per endpoint,
 * the API process's CPU use, the load average during each pass (sampled every second), and
 * whether the exports ran throughout; writes bench/results/api-load.json. Target: p99 under 50 ms
 * and no error.
 *
 * --quick: four budgets, 15 s per pass (a check that it works, not a figure).
 * Environment: BENCH_RATE, BENCH_DURATION_S, BENCH_CONNECTIONS (32 per endpoint at most), BENCH_DETAILS_QUERIES
 * (`|`-separated query strings, one pass each; default `linesPerPage=100&rowsPerPage=100|`, the
 * empty one being the API's default page). `BENCH_DETAILS_QUERIES=''` is the worst case: one pass
 * at the default page as the exports start, so the rows on the page read are being written throughout.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT } from '../test/chaos/infra/connector-build';
import { ConnectorLab } from '../test/chaos/lab';

const run = promisify(execFile);
const QUICK = process.argv.includes('--quick');
const RATE = Number(process.env.BENCH_RATE ?? 200);
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? (QUICK ? 15 : 60));
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DETAILS_QUERIES = (process.env.BENCH_DETAILS_QUERIES ?? 'linesPerPage=100&rowsPerPage=100|').split('|');
const BUDGETS = QUICK ? 4 : 10;
const ROWS = 2_000;
const WARM_UP_S = 3;
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

interface Pass {
  detailsQuery: string;
  lines: number;
  rows: number;
  loadAverage: { min: number; mean: number; max: number };
  apiCpuShare: number;
  /** How the API answered the list and details during the pass (connector_api_read_cache_requests_total). */
  readCache: Record<string, number>;
  spectrumRowsWrittenPerSecond: number;
  exportsRanThroughout: boolean;
  loads: Load[];
  targets: Record<string, boolean>;
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

    const passes: Pass[] = [];
    for (const query of DETAILS_QUERIES) {
      const detailsPath = `/api/v1/budgets/${ids[0]}${query ? `?${query}` : ''}`;
      const sample = await lab.call('GET', detailsPath);
      if (sample.status !== 200) throw new Error(`details answered ${sample.status}`);
      const lines = sample.body.lines.length as number;
      const rows = sample.body.rows.length as number;
      const detailsName = `details, ${lines} lines + ${rows} rows of ${sample.body.linesTotal}`;
      log(`pass: ${detailsPath} answers ${lines} lines and ${rows} rows of ${sample.body.linesTotal}/${sample.body.rowsTotal}`);
      await constantRate(lab, [['warm-up', '/api/v1/budgets'], ['warm-up', detailsPath]], RATE / 4, WARM_UP_S);

      const appliedBefore = lab.spectrum.appliedAddPhases.length;
      const cacheBefore = await readCacheCounts(lab);
      const cpuBefore = cpuSeconds(lab.api!.pid);
      const loadSamples: number[] = [loadavg()[0]];
      const sampler = setInterval(() => loadSamples.push(loadavg()[0]), 1000);
      log(`  ${RATE} requests/s on the list and ${RATE} on the details for ${DURATION_S} s …`);
      const started = Date.now();
      const [list, details] = await constantRate(
        lab,
        [
          ['budget list (50 a page)', '/api/v1/budgets'],
          [detailsName, detailsPath],
        ],
        RATE,
        DURATION_S,
      ).finally(() => clearInterval(sampler));
      const seconds = (Date.now() - started) / 1000;
      const apiCpu = (cpuSeconds(lab.api!.pid) - cpuBefore) / seconds;
      const cacheAfter = await readCacheCounts(lab);
      const readCache = Object.fromEntries(Object.entries(cacheAfter).map(([result, count]) => [result, count - (cacheBefore[result] ?? 0)]));
      const appliedDuring = lab.spectrum.appliedAddPhases.length - appliedBefore;
      const exportsRanThroughout = (await statuses(lab, ids)).some((s) => s === 'exporting');
      const loadAverage = {
        min: Math.min(...loadSamples),
        mean: loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length,
        max: Math.max(...loadSamples),
      };
      for (const result of [list, details]) {
        console.log(
          `  ${result.name.padEnd(40)} ${result.perSecond.toFixed(0).padStart(4)} req/s  p50 ${ms(result.p50)}  p90 ${ms(result.p90)}  p99 ${ms(result.p99)}  max ${ms(result.max)}  errors ${result.errors + result.timeouts}  non-2xx ${result.non2xx}  (${result.bytesPerResponse.toLocaleString('en-US')} bytes each)`,
        );
      }
      console.log(
        `  load average ${loadAverage.min.toFixed(1)}–${loadAverage.max.toFixed(1)} (mean ${loadAverage.mean.toFixed(1)}) on ${cpus().length} cores; API process CPU ${(apiCpu * 100).toFixed(0)} % of one core; ` +
          `Spectrum rows written meanwhile: ${appliedDuring} (${(appliedDuring / seconds).toFixed(0)}/s); exports still running at the end: ${exportsRanThroughout ? 'yes' : 'no'}`,
      );
      console.log(`  read cache: ${Object.entries(readCache).map(([result, count]) => `${result} ${count}`).join(', ') || 'no figures (no /metrics)'}`);
      const targets = {
        listP99Under50ms: list.requests > 0 && list.p99 < P99_TARGET_MS,
        detailsP99Under50ms: details.requests > 0 && details.p99 < P99_TARGET_MS,
        noErrors: [list, details].every((r) => r.errors + r.timeouts + r.non2xx === 0),
        rateHeld: [list, details].every((r) => r.perSecond >= RATE * 0.95),
        exportsRanThroughout,
      };
      console.log(`  targets: ${Object.entries(targets).map(([name, ok]) => `${name} ${ok ? 'ok' : 'NOT MET'}`).join(', ')}`);
      passes.push({ detailsQuery: query, lines, rows, loadAverage, apiCpuShare: apiCpu, readCache, spectrumRowsWrittenPerSecond: appliedDuring / seconds, exportsRanThroughout, loads: [list, details], targets });
    }
    mkdirSync(join(__dirname, 'results'), { recursive: true });
    writeFileSync(
      join(__dirname, 'results', 'api-load.json'),
      `${JSON.stringify({ ranAt: new Date().toISOString(), node: process.version, cores: cpus().length, quick: QUICK, budgets: BUDGETS, rate: RATE, durationS: DURATION_S, warmUpS: WARM_UP_S, connections: CONNECTIONS, passes }, null, 2)}\n`,
    );
    console.log('Written to bench/results/api-load.json');
    if (passes.some((pass) => Object.values(pass.targets).some((ok) => !ok))) process.exitCode = 1;
  } finally {
    await lab.close();
  }
}

/** The constant-rate load (bench/support/constant-rate.ts) on these paths at once, in a process of its own. */
async function constantRate(lab: ConnectorLab, loads: Array<[name: string, path: string]>, rate: number, durationS: number): Promise<Load[]> {
  const { stdout } = await run(
    process.execPath,
    [
      '-r',
      'ts-node/register/transpile-only',
      join(__dirname, 'support', 'constant-rate.ts'),
      lab.adminToken,
      String(durationS),
      String(CONNECTIONS),
      ...loads.flatMap(([, path]) => [String(rate), `${lab.apiUrl}${path}`]),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const results = JSON.parse(stdout) as Array<Omit<Load, 'name' | 'path'> & { url: string }>;
  return results.map(({ url, ...result }, index) => ({ name: loads[index][0], path: loads[index][1].replace(/\/\d+/, '/:id'), ...result }));
}

/** connector_api_read_cache_requests_total by result, from the API's /metrics. */
async function readCacheCounts(lab: ConnectorLab): Promise<Record<string, number>> {
  const answer = await fetch(`${lab.apiUrl}/metrics`, { headers: { authorization: `Bearer ${lab.adminToken}` } });
  if (answer.status !== 200) return {};
  const counts: Record<string, number> = {};
  for (const match of (await answer.text()).matchAll(/^connector_api_read_cache_requests_total\{result="(\w+)"\} (\d+)/gm)) counts[match[1]] = Number(match[2]);
  return counts;
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
