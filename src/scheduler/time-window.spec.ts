import { CronTime } from 'cron';
import { localDate, previousFireTime, windowKey } from './time-window';

const CHICAGO = 'America/Chicago';
const at = (iso: string) => new Date(iso);

describe('localDate', () => {
  it('gives the calendar day in the zone, on both sides of local midnight', () => {
    // CST is UTC-6 in winter, CDT is UTC-5 in summer.
    expect(localDate(at('2025-01-15T05:59:59.999Z'), CHICAGO)).toBe('2025-01-14');
    expect(localDate(at('2025-01-15T06:00:00Z'), CHICAGO)).toBe('2025-01-15');
    expect(localDate(at('2025-07-01T04:59:59Z'), CHICAGO)).toBe('2025-06-30');
    expect(localDate(at('2025-07-01T05:00:00Z'), CHICAGO)).toBe('2025-07-01');
  });

  it('follows the DST changes of the zone', () => {
    // 2025-03-09: 02:00 CST jumps to 03:00 CDT. 2025-11-02: 02:00 CDT falls back to 01:00 CST.
    expect(localDate(at('2025-03-09T05:59:00Z'), CHICAGO)).toBe('2025-03-08');
    expect(localDate(at('2025-03-10T04:59:00Z'), CHICAGO)).toBe('2025-03-09');
    expect(localDate(at('2025-03-10T05:00:00Z'), CHICAGO)).toBe('2025-03-10');
    expect(localDate(at('2025-11-03T05:59:00Z'), CHICAGO)).toBe('2025-11-02');
    expect(localDate(at('2025-11-03T06:00:00Z'), CHICAGO)).toBe('2025-11-03');
  });

  it('works in UTC and far-east zones', () => {
    expect(localDate(at('2025-12-31T23:30:00Z'), 'UTC')).toBe('2025-12-31');
    expect(localDate(at('2025-12-31T23:30:00Z'), 'Pacific/Kiritimati')).toBe('2026-01-01');
  });

  it('rejects an unknown zone and an invalid date', () => {
    expect(() => localDate(at('2025-01-01T00:00:00Z'), 'Mars/Olympus_Mons')).toThrow(RangeError);
    expect(() => localDate(new Date(Number.NaN), 'UTC')).toThrow(TypeError);
  });
});

describe('previousFireTime', () => {
  it('is the fire time itself at the exact tick, and the previous one just before it', () => {
    expect(previousFireTime('0 7 * * *', CHICAGO, at('2025-01-15T13:00:00Z'))).toEqual(at('2025-01-15T13:00:00Z'));
    expect(previousFireTime('0 7 * * *', CHICAGO, at('2025-01-15T12:59:59.999Z'))).toEqual(
      at('2025-01-14T13:00:00Z'),
    );
  });

  it('crosses the spring change backwards', () => {
    // 07:00 CDT on 2025-03-09 is 12:00Z; the day before, 07:00 CST was 13:00Z.
    expect(previousFireTime('0 7 * * *', CHICAGO, at('2025-03-09T11:59:00Z'))).toEqual(at('2025-03-08T13:00:00Z'));
    expect(previousFireTime('0 7 * * *', CHICAGO, at('2025-03-09T12:00:00Z'))).toEqual(at('2025-03-09T12:00:00Z'));
  });

  it('finds the last fire of a dense schedule far behind a sparse gap (bisection path)', () => {
    // Every second of minute 0 of every hour: the last fire before 10:30 is 10:00:59.
    expect(previousFireTime('* 0 * * * *', 'UTC', at('2025-05-05T10:30:00Z'))).toEqual(at('2025-05-05T10:00:59Z'));
    expect(previousFireTime('* 0 * * * *', 'UTC', at('2025-05-05T10:00:17.5Z'))).toEqual(at('2025-05-05T10:00:17Z'));
  });

  it('finds a monthly tick weeks back', () => {
    expect(previousFireTime('0 6 1 * *', CHICAGO, at('2025-03-31T00:00:00Z'))).toEqual(at('2025-03-01T12:00:00Z'));
  });
});

describe('windowKey', () => {
  const daily = '0 7 * * *';

  it('gives every instance firing for the same tick the same key, however late it runs', () => {
    const onTime = windowKey(at('2025-01-15T13:00:00.000Z'), daily, CHICAGO);
    const late = windowKey(at('2025-01-15T13:00:02.731Z'), daily, CHICAGO);
    const muchLater = windowKey(at('2025-01-16T12:59:59Z'), daily, CHICAGO);
    expect(onTime).toBe('2025-01-15T07:00:00-06:00');
    expect(late).toBe(onTime);
    expect(muchLater).toBe(onTime);
    expect(windowKey(at('2025-01-16T13:00:00Z'), daily, CHICAGO)).toBe('2025-01-16T07:00:00-06:00');
  });

  it('names the local scheduled time across DST changes', () => {
    expect(windowKey(at('2025-03-08T13:00:00Z'), daily, CHICAGO)).toBe('2025-03-08T07:00:00-06:00');
    expect(windowKey(at('2025-03-09T12:00:00Z'), daily, CHICAGO)).toBe('2025-03-09T07:00:00-05:00');
    expect(windowKey(at('2025-11-01T12:00:00Z'), daily, CHICAGO)).toBe('2025-11-01T07:00:00-05:00');
    expect(windowKey(at('2025-11-02T13:00:00Z'), daily, CHICAGO)).toBe('2025-11-02T07:00:00-06:00');
    // Before the tick on the day of each change: still the previous day's tick.
    expect(windowKey(at('2025-03-09T11:59:59Z'), daily, CHICAGO)).toBe('2025-03-08T07:00:00-06:00');
    expect(windowKey(at('2025-11-02T12:59:59Z'), daily, CHICAGO)).toBe('2025-11-01T07:00:00-05:00');
  });

  it('keeps the two 01:30s of the night clocks fall back apart, so no tick is lost', () => {
    // 01:30 CDT is 06:30Z and 01:30 CST is 07:30Z on 2025-11-02.
    expect(windowKey(at('2025-11-02T06:30:00Z'), '*/15 * * * *', CHICAGO)).toBe('2025-11-02T01:30:00-05:00');
    expect(windowKey(at('2025-11-02T07:30:00Z'), '*/15 * * * *', CHICAGO)).toBe('2025-11-02T01:30:00-06:00');
    expect(windowKey(at('2025-11-02T06:44:00Z'), '* * * * *', CHICAGO)).not.toBe(windowKey(at('2025-11-02T07:44:00Z'), '* * * * *', CHICAGO));
  });

  it('splits a frequent schedule into its ticks', () => {
    const poll = '*/15 * * * *';
    expect(windowKey(at('2025-05-05T10:00:00Z'), poll, 'UTC')).toBe('2025-05-05T10:00:00+00:00');
    expect(windowKey(at('2025-05-05T10:14:59Z'), poll, 'UTC')).toBe('2025-05-05T10:00:00+00:00');
    expect(windowKey(at('2025-05-05T10:15:00Z'), poll, 'UTC')).toBe('2025-05-05T10:15:00+00:00');
    expect(windowKey(at('2025-05-05T10:15:00Z'), poll, CHICAGO)).toBe('2025-05-05T05:15:00-05:00');
  });
});

describe('previousFireTime agrees with the scheduler’s own cron package', () => {
  // The scheduler fires with `cron` (under @nestjs/schedule); previousFireTime reads the same
  // expression with cron-parser. Every tick `cron` fires on must be the tick previousFireTime names.
  // (Not inside the hour clocks fall back: there `cron`'s getNextDateFrom runs backwards — the
  // hand-written walk this replaces looped forever on it; see the next test.)
  const cases: Array<[expression: string, zone: string, from: string]> = [
    ['0 7 * * *', 'Australia/Sydney', '2025-03-30T00:00:00Z'],
    ['0 7 * * *', 'Australia/Sydney', '2025-09-28T00:00:00Z'],
    ['*/15 * * * *', 'Australia/Sydney', '2025-10-04T14:00:00Z'],
    ['*/15 * * * *', CHICAGO, '2025-03-09T06:00:00Z'],
    ['0 6 1 * *', CHICAGO, '2025-01-01T00:00:00Z'],
    ['0 9 * * 1-5', 'UTC', '2025-05-01T00:00:00Z'],
  ];
  it.each(cases)('%s in %s from %s', (expression, zone, from) => {
    const time = new CronTime(expression, zone);
    let previous: Date | undefined;
    let cursor = new Date(from);
    for (let i = 0; i < 24; i++) {
      const fire = time.getNextDateFrom(cursor, zone).toJSDate();
      expect(previousFireTime(expression, zone, fire)).toEqual(fire);
      expect(previousFireTime(expression, zone, new Date(fire.getTime() + 999))).toEqual(fire);
      if (previous) expect(previousFireTime(expression, zone, new Date(fire.getTime() - 1))).toEqual(previous);
      previous = fire;
      cursor = fire;
    }
  });

  it('keeps every tick of the hour clocks fall back (Sydney, Chicago), and both 02:30s of Sydney’s', () => {
    // Whole-hour offsets: a quarter-hourly or minutely tick is the UTC quarter-hour or minute.
    const floorTo = (millis: number, step: number) => new Date(Math.floor(millis / step) * step);
    for (const [zone, from] of [['Australia/Sydney', Date.parse('2025-04-05T14:00:00Z')], [CHICAGO, Date.parse('2025-11-02T05:00:00Z')]] as const) {
      for (let t = from; t < from + 4 * 3_600_000; t += 7 * 60_000 + 13_000) {
        expect(previousFireTime('*/15 * * * *', zone, new Date(t))).toEqual(floorTo(t, 15 * 60_000));
        expect(previousFireTime('* * * * *', zone, new Date(t))).toEqual(floorTo(t, 60_000));
      }
    }
    // 02:30 happens twice in Sydney on 2025-04-06 (AEDT, then AEST): two ticks, two windows.
    expect(previousFireTime('30 2 * * *', 'Australia/Sydney', at('2025-04-05T16:00:00Z'))).toEqual(at('2025-04-05T15:30:00Z'));
    expect(previousFireTime('30 2 * * *', 'Australia/Sydney', at('2025-04-05T17:00:00Z'))).toEqual(at('2025-04-05T16:30:00Z'));
    expect(windowKey(at('2025-04-05T16:00:00Z'), '30 2 * * *', 'Australia/Sydney')).toBe('2025-04-06T02:30:00+11:00');
    expect(windowKey(at('2025-04-05T17:00:00Z'), '30 2 * * *', 'Australia/Sydney')).toBe('2025-04-06T02:30:00+10:00');
    // The same local day, so the daily summary is still sent once.
    expect(localDate(at('2025-04-05T15:30:00Z'), 'Australia/Sydney')).toBe(localDate(at('2025-04-05T16:30:00Z'), 'Australia/Sydney'));
  });
});
