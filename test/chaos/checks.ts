/**
 * The chaos suite's end-state checks, as pure functions over what the run collected: the Spectrum
 * stand-in's call log, the export ledger with each row's commit time, Spectrum's rows, the
 * notification ledger, the SMTP stand-in's inbox and the suite's own event log. Nothing here talks
 * to a process, so each check is unit-tested on hand-made data (checks.spec.ts).
 */

export type EventKind =
  | 'send'
  | 'ready'
  | 'reject'
  | 'resend'
  | 'daily-summary'
  | 'accept'
  | 'kill'
  | 'restart'
  | 'term'
  | 'exit'
  | 'redis-down'
  | 'redis-up'
  | 'pg-down'
  | 'pg-up'
  | 'smtp-down'
  | 'smtp-up'
  | 'chaos-end'
  | 'synced'
  | 'settled';

export interface ChaosEvent {
  /** Epoch ms. */
  at: number;
  kind: EventKind;
  /** The process or budget it concerns, e.g. `worker-2`. */
  target?: string;
  detail?: string;
}

/** One SOAP call the Spectrum stand-in received. `row` is `job|phase|costType` for AddPhase. */
export interface SpectrumCall {
  seq: number;
  at: number;
  finishedAt: number | null;
  service: string;
  outcome: string;
  /** Calls in flight when it arrived, itself included. */
  concurrent: number;
  row?: string;
}

/** One row of an exported submission, as the ledger holds it at the end. */
export interface LedgerRow {
  submissionId: string;
  row: string;
  original: string;
  revised: string;
  state: string;
  /** When the transaction that last changed the row (the one marking it written) committed, epoch ms. */
  committedAt: number | null;
}

export interface SpectrumRow {
  row: string;
  original: bigint | null;
  current: bigint | null;
}

export interface NotificationRecord {
  id: string;
  kind: string;
  recipient: string;
  state: string;
  /** Commit time of the transaction that last changed the row (for `sent`: the one recording it). */
  committedAt: number | null;
  /** Why it was closed without sending (`failed`). */
  error?: string | null;
}

/**
 * The connector closes an email whose subject no longer applies when its turn comes (a daily
 * summary when no budget awaits acceptance any more): "not sent: …" (EmailNotApplicableError).
 * Withdrawn, not lost.
 */
export const WITHDRAWN = /^not sent: /;

export interface ReceivedEmail {
  /** The X-Connector-Notification-Id header; null when absent. */
  notificationId: string | null;
  receivedAt: number;
  subject: string;
}

export type CheckStatus = 'pass' | 'fail' | 'pending';

export interface CheckResult {
  name: string;
  status: CheckStatus;
  summary: string;
  /** Each violation or notable item, one line each (capped by the reporter). */
  details: string[];
}

/** Events that can end a process between an outcome and its commit (the documented crash window). */
export const CRASH_EVENTS: ReadonlySet<EventKind> = new Set(['kill', 'term', 'pg-down']);

const rowKey = (job: string, phase: string, costType: string) => [job, phase, costType].map((part) => part.trim().toUpperCase()).join('|');
export { rowKey };

function result(name: string, ok: boolean, summary: string, details: string[] = []): CheckResult {
  return { name, status: ok ? 'pass' : 'fail', summary, details };
}

/** A check whose feature has not landed yet is reported as `pending` instead of failing the run. */
export function gated(check: CheckResult, landed: boolean, feature: string): CheckResult {
  if (landed || check.status === 'pass') return check;
  return { ...check, status: 'pending', summary: `${check.summary} (not enforced until ${feature} lands)` };
}

// ---- budgets ------------------------------------------------------------------------------------

export function checkAllSynced(submissions: Array<{ id: string; project: string; status: string }>): CheckResult {
  const off = submissions.filter((submission) => submission.status !== 'synced');
  return result(
    'every budget synced',
    off.length === 0 && submissions.length > 0,
    `${submissions.length - off.length} of ${submissions.length} budgets synced`,
    off.map((submission) => `submission ${submission.id} (${submission.project}) is ${submission.status}`),
  );
}

/** Parses `-1234.50` to cents without a float. */
export function cents(text: string): bigint {
  const match = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!match) throw new Error(`not an amount: ${text}`);
  const value = BigInt(match[2]) * 100n + BigInt((match[3] ?? '').padEnd(2, '0'));
  return match[1] ? -value : value;
}

const money = (value: bigint | null) => (value === null ? 'nothing' : `${value < 0n ? '-' : ''}${(value < 0n ? -value : value) / 100n}.${String((value < 0n ? -value : value) % 100n).padStart(2, '0')}`);

/** Spectrum holds exactly each exported row's original and current estimate, and nothing else. */
export function checkSpectrumExact(ledger: LedgerRow[], spectrum: SpectrumRow[]): CheckResult {
  const held = new Map(spectrum.map((row) => [row.row, row]));
  const expected = new Set(ledger.map((row) => row.row));
  const details: string[] = [];
  let total = 0n;
  for (const row of ledger) {
    const actual = held.get(row.row);
    const original = cents(row.original);
    const current = cents(row.revised);
    total += current;
    if (!actual) details.push(`${row.row}: missing in Spectrum (expected ${row.revised})`);
    else if (actual.original !== original || actual.current !== current) {
      details.push(`${row.row}: Spectrum has original ${money(actual.original)} / current ${money(actual.current)}, expected ${row.original} / ${row.revised}`);
    }
  }
  for (const row of spectrum) if (!expected.has(row.row)) details.push(`${row.row}: in Spectrum but in no exported budget`);
  return result(
    'Spectrum exact to the cent',
    details.length === 0 && ledger.length > 0,
    `${ledger.length - details.length} of ${ledger.length} rows exact (current estimates ${money(total)} in all)`,
    details,
  );
}

// ---- re-sends -----------------------------------------------------------------------------------

/**
 * No AddPhase for a row reached Spectrum after the transaction recording that row as written
 * committed. (Re-sends before that commit are the documented crash window; see classifyResends.)
 */
export function checkNoResendAfterCommit(ledger: LedgerRow[], calls: SpectrumCall[]): CheckResult {
  const committed = new Map<string, number>();
  const details: string[] = [];
  for (const row of ledger) {
    if (row.state !== 'written') continue;
    if (row.committedAt === null) details.push(`${row.row}: written, but its commit time is unknown`);
    else committed.set(row.row, row.committedAt);
  }
  let checked = 0;
  for (const call of calls) {
    if (call.service !== 'AddPhase' || !call.row) continue;
    const at = committed.get(call.row);
    if (at === undefined) continue;
    checked++;
    if (call.at > at) details.push(`${call.row}: AddPhase #${call.seq} arrived ${call.at - at} ms after the ledger committed it as written`);
  }
  return result(
    'no row re-sent after its success was recorded',
    details.length === 0,
    `${committed.size} rows' commit times against ${checked} AddPhase calls`,
    details,
  );
}

export interface ResendSummary {
  /** Rows Spectrum applied more than once. */
  rows: number;
  /** Extra applications (beyond the first) per cause: the crash event nearest after the first success. */
  byCause: Record<string, number>;
  details: string[];
}

/**
 * Rows whose AddPhase succeeded more than once. Each is put down to the first crash event
 * (SIGKILL, SIGTERM, PostgreSQL stopping) within `windowMs` after the earlier success was answered
 * — the window between Spectrum's answer and the ledger's commit — else `unexplained` (e.g. a
 * call the client timed out on although Spectrum applied it).
 */
export function classifyResends(calls: SpectrumCall[], events: ChaosEvent[], windowMs = 10_000): ResendSummary {
  const successes = new Map<string, SpectrumCall[]>();
  for (const call of calls) {
    if (call.service !== 'AddPhase' || call.outcome !== 'ok' || !call.row) continue;
    successes.set(call.row, [...(successes.get(call.row) ?? []), call]);
  }
  const crashes = events.filter((event) => CRASH_EVENTS.has(event.kind)).sort((a, b) => a.at - b.at);
  const summary: ResendSummary = { rows: 0, byCause: {}, details: [] };
  for (const [row, list] of successes) {
    if (list.length < 2) continue;
    summary.rows++;
    list.sort((a, b) => a.seq - b.seq);
    for (const earlier of list.slice(0, -1)) {
      const answered = earlier.finishedAt ?? earlier.at;
      const crash = crashes.find((event) => event.at >= answered - 1_000 && event.at <= answered + windowMs);
      const cause = crash ? `${crash.kind}${crash.target ? ` ${crash.target}` : ''}` : 'unexplained';
      const key = crash ? crash.kind : 'unexplained';
      summary.byCause[key] = (summary.byCause[key] ?? 0) + 1;
      summary.details.push(`${row}: applied again after #${earlier.seq} (${cause})`);
    }
  }
  return summary;
}

// ---- the concurrency cap ------------------------------------------------------------------------

export interface ExemptWindow {
  /** What the window is, e.g. "Redis restart". */
  name: string;
  from: number;
  to: number;
  /** The feature that must hold the cap here; until it lands, excess here is reported as pending. */
  feature: string;
  landed: boolean;
}

export interface ConcurrencyProfile {
  peak: number;
  peakAt: number | null;
  /** Max calls in flight per second of the run (index = second since `start`). */
  perSecond: number[];
}

export function concurrencyProfile(calls: SpectrumCall[], start: number): ConcurrencyProfile {
  const perSecond: number[] = [];
  let peak = 0;
  let peakAt: number | null = null;
  for (const call of calls) {
    const second = Math.max(0, Math.floor((call.at - start) / 1000));
    perSecond[second] = Math.max(perSecond[second] ?? 0, call.concurrent);
    if (call.concurrent > peak) {
      peak = call.concurrent;
      peakAt = call.at;
    }
  }
  for (let i = 0; i < perSecond.length; i++) perSecond[i] ??= 0;
  return { peak, peakAt, perSecond };
}

/**
 * Spectrum never saw more calls at once than `cap`. A call that arrived over the cap inside an
 * exempt window whose feature has not landed is reported (status `pending`), not failed.
 */
export function checkCap(calls: SpectrumCall[], cap: number, windows: ExemptWindow[] = []): CheckResult {
  const over = calls.filter((call) => call.concurrent > cap);
  const peak = calls.reduce((max, call) => Math.max(max, call.concurrent), 0);
  const failing: string[] = [];
  const pending: string[] = [];
  for (const call of over) {
    const window = windows.find((w) => call.at >= w.from && call.at <= w.to);
    const line = `#${call.seq} ${call.service} arrived with ${call.concurrent} calls in flight${window ? ` (during the ${window.name})` : ''}`;
    if (window && !window.landed) pending.push(line);
    else failing.push(line);
  }
  const name = 'Spectrum never saw more calls at once than SPECTRUM_CONCURRENCY';
  const summary = `peak ${peak} calls in flight, cap ${cap}; ${over.length} call(s) arrived over the cap`;
  if (failing.length) return { name, status: 'fail', summary, details: [...failing, ...pending] };
  if (pending.length) {
    const features = [...new Set(windows.filter((w) => !w.landed).map((w) => w.feature))].join(', ');
    return { name, status: 'pending', summary: `${summary}, all inside windows that ${features} will cover`, details: pending };
  }
  return { name, status: 'pass', summary, details: [] };
}

// ---- emails -------------------------------------------------------------------------------------

export interface EmailSummary {
  notifications: number;
  received: number;
  lost: number;
  /** Closed unsent because their subject no longer applied (see WITHDRAWN). */
  withdrawn: number;
  /** Extra copies inside the documented crash window. */
  repeatsInCrashWindow: number;
}

/**
 * Every notification of the ledger delivered exactly once: each `sent` one received at least once;
 * none `pending` or `failed` at the end; no email without a ledger row; extra copies only inside
 * the documented crash window — received before the ledger committed `sent`, and followed within
 * `windowMs` by a crash event (the sender died between SMTP's acceptance and the commit).
 */
export function checkEmails(
  notifications: NotificationRecord[],
  received: ReceivedEmail[],
  events: ChaosEvent[],
  windowMs = 5_000,
): { check: CheckResult; summary: EmailSummary } {
  const byId = new Map<string, ReceivedEmail[]>();
  const details: string[] = [];
  for (const email of received) {
    if (!email.notificationId) {
      details.push(`"${email.subject}" arrived without a notification id`);
      continue;
    }
    byId.set(email.notificationId, [...(byId.get(email.notificationId) ?? []), email]);
  }
  const known = new Set(notifications.map((n) => n.id));
  for (const id of byId.keys()) if (!known.has(id)) details.push(`notification ${id} arrived but is not in the ledger`);
  const crashes = events.filter((event) => CRASH_EVENTS.has(event.kind));
  let lost = 0;
  let repeats = 0;
  let withdrawn = 0;
  for (const notification of notifications) {
    const copies = (byId.get(notification.id) ?? []).sort((a, b) => a.receivedAt - b.receivedAt);
    const label = `notification ${notification.id} (${notification.kind} to ${notification.recipient})`;
    if (notification.state === 'failed' && WITHDRAWN.test(notification.error ?? '') && !copies.length) {
      withdrawn++;
      continue;
    }
    if (notification.state !== 'sent') {
      lost++;
      details.push(`${label} is ${notification.state}${copies.length ? ` though ${copies.length} cop(ies) arrived` : ''}`);
      continue;
    }
    if (!copies.length) {
      lost++;
      details.push(`${label} is recorded sent but never arrived`);
      continue;
    }
    for (const copy of copies.slice(1)) {
      if (notification.committedAt !== null && copy.receivedAt > notification.committedAt) {
        details.push(`${label}: a copy arrived ${copy.receivedAt - notification.committedAt} ms after the ledger recorded it sent`);
      }
    }
    for (const earlier of copies.slice(0, -1)) {
      const crash = crashes.find((event) => event.at >= earlier.receivedAt - 1_000 && event.at <= earlier.receivedAt + windowMs);
      if (crash) repeats++;
      else details.push(`${label}: sent again with no crash within ${windowMs} ms after the copy received at ${new Date(earlier.receivedAt).toISOString()}`);
    }
  }
  const summary: EmailSummary = { notifications: notifications.length, received: received.length, lost, withdrawn, repeatsInCrashWindow: repeats };
  return {
    check: result(
      'every email delivered exactly once',
      details.length === 0 && notifications.length > withdrawn,
      `${notifications.length} notifications, ${received.length} emails received, ${lost} lost, ${repeats} repeated inside the crash window${withdrawn ? `, ${withdrawn} withdrawn as no longer applicable` : ''}`,
      details,
    ),
    summary,
  };
}

// ---- leftovers ----------------------------------------------------------------------------------

export function checkNoPendingWork(leftovers: { pendingWork: string[]; pendingNotifications: number }): CheckResult {
  const ok = leftovers.pendingWork.length === 0 && leftovers.pendingNotifications === 0;
  return result(
    'no pending work left',
    ok,
    `${leftovers.pendingWork.length} pending work item(s), ${leftovers.pendingNotifications} pending notification(s)`,
    leftovers.pendingWork,
  );
}
