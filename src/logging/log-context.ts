import { storage, Store } from 'nestjs-pino/storage';
import type { Bindings, Logger as Pino } from 'pino';

/**
 * The ids a log line concerns, carried through async calls: nestjs-pino's AsyncLocalStorage holds
 * the logger of the current request (bound by requestLogging) or job (bound by runWithLogContext),
 * and ConnectorLogger writes every line through it.
 */
let processLogger: Pino | undefined;

/** The process's root logger (set once at start by the bootstrap). */
export function setProcessLogger(logger: Pino): void {
  processLogger = logger;
}

/**
 * Runs `work` with a logger of its own carrying `bindings` on every line: a job's ids. It starts
 * from the process's root logger, never from a request that happens to surround it.
 */
export function runWithLogContext<T>(bindings: Bindings, work: () => T): T {
  if (!processLogger) return work();
  return storage.run(new Store(processLogger.child(compact(bindings))), work);
}

/**
 * Adds ids to every later line of the current request or job (e.g. the Procore project, once the
 * submission is read). Outside both it does nothing.
 */
export function addLogContext(bindings: Bindings): void {
  const store = storage.getStore();
  if (!store) return;
  const fields = compact(bindings);
  if (!Object.keys(fields).length) return;
  store.logger = store.logger.child(fields);
  store.responseLogger?.setBindings(fields);
}

function compact(bindings: Bindings): Bindings {
  return Object.fromEntries(Object.entries(bindings).filter(([, value]) => value !== undefined && value !== null && value !== ''));
}
