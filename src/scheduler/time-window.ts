import { CronExpressionParser } from 'cron-parser';

/**
 * Pure time-window helpers for the scheduler and the notification ledger. Every function takes
 * the instant it reasons about as an argument (never reads the clock), so tests inject instants.
 *
 * Cron expressions are read by `cron-parser` in the given IANA time zone; the scheduler fires with
 * the `cron` package (under `@nestjs/schedule`), and time-window.spec.ts checks that both agree on
 * the ticks, across DST changes, so the windows here are the ticks the scheduler really fires on.
 */

const SECOND = 1000;

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

/**
 * The most recent fire time at or before `atOrBefore`, by cron-parser's `prev()` in `timeZone`.
 * `prev()` answers strictly before the instant it starts from; fire times are whole seconds, so
 * starting one second after `atOrBefore` (rounded down to its second) includes a tick at it.
 */
export function previousFireTime(cronExpression: string, timeZone: string, atOrBefore: Date): Date {
  assertTimeZone(timeZone);
  const target = Math.floor(validMillis(atOrBefore) / SECOND) * SECOND;
  const expression = CronExpressionParser.parse(cronExpression, { currentDate: new Date(target + SECOND), tz: timeZone });
  try {
    return expression.prev().toDate();
  } catch {
    throw new RangeError(`cron "${cronExpression}" has no fire time before ${atOrBefore.toISOString()}`);
  }
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
