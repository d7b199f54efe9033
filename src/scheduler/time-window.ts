import { CronTime } from 'cron';

/**
 * Pure time-window helpers for the scheduler and the notification ledger. Every function takes
 * the instant it reasons about as an argument (never reads the clock), so tests inject instants.
 *
 * Cron expressions are read by the `cron` package (the one `@nestjs/schedule` fires with), in the
 * given IANA time zone, so the windows here are the ticks the scheduler really fires on.
 */

const SECOND = 1000;
/** Far enough back for any cron that fires at least once in 8 years (e.g. `0 0 29 2 *`). */
const MAX_LOOKBACK_MS = 9 * 366 * 24 * 3600 * SECOND;
/** Fire times walked one by one before narrowing the rest of the window by bisection. */
const MAX_WALK = 16;

/** `YYYY-MM-DD`: the calendar day of `instant` in `timeZone` (DST-correct). */
export function localDate(instant: Date, timeZone: string): string {
  const p = wallClock(instant, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
}

/**
 * A stable id of the cron tick `instant` belongs to: the local time of the most recent fire time at
 * or before `instant`, with its UTC offset (`YYYY-MM-DDTHH:mm:ss±HH:MM`). Every instance that fires
 * for the same tick gets the same key, however late it runs, so it can serve as a queue job id.
 * The offset keeps the two 01:30s of the night clocks fall back apart, so a frequent schedule
 * (the sweeper, polling) never loses that hour's ticks.
 */
export function windowKey(instant: Date, cronExpression: string, timeZone: string): string {
  const tick = previousFireTime(cronExpression, timeZone, instant);
  const p = wallClock(tick, timeZone);
  const wallMillis = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  const offset = Math.round((wallMillis - Math.floor(tick.getTime() / SECOND) * SECOND) / 60_000);
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${zone}`;
}

/** The most recent fire time at or before `atOrBefore`. */
export function previousFireTime(cronExpression: string, timeZone: string, atOrBefore: Date): Date {
  const time = cronTime(cronExpression, timeZone);
  const next = (from: number) => nextFireMillis(time, timeZone, from);
  // Fire times are whole seconds: one at or before `atOrBefore` is one at or before `target`.
  const target = Math.floor(validMillis(atOrBefore) / SECOND) * SECOND;

  // Widen the window backwards until it holds a fire time.
  let lookback = SECOND;
  let fire = next(target - lookback);
  while (fire > target) {
    lookback *= 2;
    if (lookback > MAX_LOOKBACK_MS) {
      throw new RangeError(`cron "${cronExpression}" has no fire time in the 9 years before ${atOrBefore.toISOString()}`);
    }
    fire = next(target - lookback);
  }
  // Walk forward to the last fire time at or before the target. A dense schedule is narrowed by
  // bisection on the way: `fire` <= target always, and next(high) > target.
  for (;;) {
    for (let i = 0; i < MAX_WALK; i++) {
      const following = next(fire);
      if (following > target) return new Date(fire);
      fire = following;
    }
    let low = fire;
    let high = target;
    while (high - low > SECOND) {
      const middle = low + Math.floor((high - low) / 2 / SECOND) * SECOND;
      if (next(middle) <= target) low = middle;
      else high = middle;
    }
    const candidate = next(low);
    if (candidate > target) return new Date(fire);
    fire = candidate;
  }
}

function cronTime(cronExpression: string, timeZone: string): CronTime {
  assertTimeZone(timeZone);
  return new CronTime(cronExpression, timeZone);
}

function nextFireMillis(time: CronTime, timeZone: string, fromMillis: number): number {
  // The zone must be passed here too: CronTime applies its own zone only in sendAt().
  return time.getNextDateFrom(new Date(fromMillis), timeZone).toMillis();
}

function validMillis(instant: Date): number {
  const millis = instant instanceof Date ? instant.getTime() : Number.NaN;
  if (Number.isNaN(millis)) throw new TypeError('expected a valid Date');
  return millis;
}

interface WallClock {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function wallClock(instant: Date, timeZone: string): WallClock {
  validMillis(instant);
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  const parts: Record<string, string> = {};
  for (const part of formatter.formatToParts(instant)) parts[part.type] = part.value;
  return {
    year: parts.year.padStart(4, '0'),
    month: parts.month,
    day: parts.day,
    hour: parts.hour,
    minute: parts.minute,
    second: parts.second,
  };
}

function assertTimeZone(timeZone: string): void {
  if (formatters.has(timeZone)) return;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new RangeError(`not an IANA time zone: ${timeZone}`);
  }
}
