import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './infra/connector-build';
import { CI_RUN, runChaos } from './scenario';

/**
 * The chaos suite at the size `npm test` can afford (`npm run chaos` runs the full one): the built
 * connector as one API and three worker processes on a private PostgreSQL and Redis, budgets
 * exported through a slow Spectrum stand-in with 10 % faults while workers are SIGKILLed, one is
 * stopped with SIGTERM, Redis and PostgreSQL are restarted and SMTP is down for a while. Every
 * enforced check must pass; checks of issue 12 features not landed yet are reported as pending.
 */
describe('chaos: workers killed, Redis, PostgreSQL and SMTP restarted mid-export', () => {
  it('ends with every budget synced, Spectrum exact, nothing re-sent after its commit, the cap held, each email once, no work left', async () => {
    const outDir = join(ROOT, 'tmp', 'chaos', `${new Date().toISOString().replace(/[:.]/g, '-')}-ci-test`);
    mkdirSync(outDir, { recursive: true });
    const lines: string[] = [];
    const result = await runChaos(CI_RUN, { outDir, log: (line) => lines.push(line) });
    const enforced = result.checks.filter((check) => check.status !== 'pending');
    const failures = enforced.filter((check) => check.status === 'fail').map((check) => ({ check: check.name, summary: check.summary, details: check.details.slice(0, 10) }));
    if (failures.length) process.stderr.write(`chaos run log (report in ${outDir}):\n${lines.join('\n')}\n`);
    expect(failures).toEqual([]);
    // The checks that hold today's code to its promises are enforced, not pending.
    const status = (name: string) => result.checks.find((check) => check.name === name)?.status;
    expect(status('every budget synced')).toBe('pass');
    expect(status('Spectrum exact to the cent')).toBe('pass');
    expect(status('no row re-sent after its success was recorded')).toBe('pass');
    expect(status('every email delivered exactly once')).toBe('pass');
    expect(status('no pending work left')).toBe('pass');
    // Each kind of fault happened.
    const kinds = new Set(result.events.map((event) => event.kind));
    for (const kind of ['kill', 'restart', 'term', 'redis-down', 'redis-up', 'pg-down', 'pg-up', 'smtp-down', 'smtp-up'] as const) expect(kinds).toContain(kind);
    expect(result.figures['faults injected']).toBeGreaterThan(0);
  }, 12 * 60_000);
});
