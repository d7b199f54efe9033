/**
 * `npm run chaos`: the chaos suite of issue 12 at full size (10 budgets × 2,000 rows, three workers
 * killed every few seconds, Redis and PostgreSQL restarted, SMTP down for a while); `-- --ci` runs
 * the size `npm test` runs. Prints the checks and figures and writes report.md, report.json,
 * timeline.svg and the processes' logs to tmp/chaos/<time>-<size>/. Exit code 1 when an enforced
 * check failed.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './infra/connector-build';
import { CI_RUN, FULL_RUN, runChaos } from './scenario';

async function main(): Promise<void> {
  const options = process.argv.includes('--ci') ? CI_RUN : FULL_RUN;
  const outDir = join(ROOT, 'tmp', 'chaos', `${new Date().toISOString().replace(/[:.]/g, '-')}-${options.label}`);
  mkdirSync(outDir, { recursive: true });
  const started = Date.now();
  const log = (line: string) => console.log(line);
  const result = await runChaos(options, { outDir, log, handleSignals: true });
  console.log('');
  for (const check of result.checks) {
    const mark = check.status === 'pass' ? 'PASS   ' : check.status === 'pending' ? 'PENDING' : 'FAIL   ';
    console.log(`${mark} ${check.name}: ${check.summary}`);
    for (const detail of check.details.slice(0, check.status === 'fail' ? 10 : 3)) console.log(`          ${detail}`);
  }
  console.log('');
  for (const [name, value] of Object.entries(result.figures)) console.log(`${name.padEnd(52)} ${value}`);
  console.log(`\nReport: ${join(outDir, 'report.md')}\nTimeline: ${join(outDir, 'timeline.svg')}\n(${Math.round((Date.now() - started) / 1000)} s)`);
  process.exitCode = result.ok ? 0 : 1;
}

main().catch((error: Error) => {
  console.error(`The chaos run failed: ${error.stack ?? error.message}`);
  process.exit(1);
});
