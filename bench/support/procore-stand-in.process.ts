/**
 * The Procore stand-in in a process of its own, so building 20 000 lines of JSON does not share the
 * event loop, CPU time or memory of the connector being measured. Driven over IPC by
 * bench/procore-ingestion.ts: start → {url, environment}; seed; limits; lock; stats; clear; stop.
 */
import { generateBudgetLines, ProcoreStandIn, SAMPLE_USERS } from '../../test/stand-ins/procore';
import type { RateLimitConfig } from '../../test/stand-ins/procore';

type Command =
  | { type: 'start' }
  | { type: 'seed'; projectId: number; lines: number }
  | { type: 'limits'; limits: RateLimitConfig }
  | { type: 'lock'; projectId: number; locked: boolean }
  | { type: 'stats' }
  | { type: 'clear' }
  | { type: 'stop' };

const standIn = new ProcoreStandIn();

process.on('message', (command: Command) => {
  void handle(command).then(
    (result) => process.send!({ ok: true, result }),
    (error: unknown) => process.send!({ ok: false, error: (error as Error).message }),
  );
});

async function handle(command: Command): Promise<unknown> {
  switch (command.type) {
    case 'start':
      await standIn.start();
      return { url: standIn.url, environment: standIn.environment() };
    case 'seed':
      standIn.addUser(SAMPLE_USERS.projectManager);
      standIn.addProject({ id: command.projectId, name: 'Benchmark Tower', project_number: '26-900' });
      standIn.setBudgetLines(command.projectId, generateBudgetLines(command.lines, 7));
      return {};
    case 'limits':
      standIn.setRateLimits(command.limits);
      return {};
    case 'lock':
      standIn.setLocked(command.projectId, command.locked);
      return {};
    case 'stats': {
      const byPath: Record<string, number> = {};
      for (const entry of standIn.requests) {
        const key = `${entry.method} ${entry.path.replace(/\/\d+(?=\/|$)/g, '/:id')}`;
        byPath[key] = (byPath[key] ?? 0) + 1;
      }
      return {
        requests: standIn.requests.length,
        detailRowPages: standIn.detailRowPageRequests(),
        rateLimited: standIn.rateLimitedResponses,
        tokenRequests: standIn.tokenRequests,
        byPath,
      };
    }
    case 'clear':
      standIn.clearLog();
      return {};
    case 'stop':
      await standIn.stop();
      setImmediate(() => process.exit(0));
      return {};
  }
}
