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
