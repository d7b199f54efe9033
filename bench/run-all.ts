/**
 * `npm run bench`: runs every benchmark in its own process, one after another, and prints where
 * the figures went (bench/results/*.json). Each benchmark creates its own database and stand-ins.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const BENCHMARKS = ['procore-ingestion.ts', 'spectrum-export.ts', 'reconciliation.ts', 'console-pages.ts'];

let failed = 0;
for (const file of BENCHMARKS) {
  console.log(`\n=== bench/${file} ===`);
  const result = spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', join(__dirname, file)], {
    stdio: 'inherit',
    env: { ...process.env, TS_NODE_PROJECT: join(__dirname, '..', 'tsconfig.json') },
  });
  if (result.status !== 0) {
    failed++;
    console.error(`bench/${file} failed (exit ${result.status ?? result.signal})`);
  }
}
console.log(`\nFigures: ${join(__dirname, 'results')}/*.json`);
process.exit(failed ? 1 : 0);
