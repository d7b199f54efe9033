import {
  parseCountHeader,
  parseLinkHeader,
  parseRateLimitHeaders,
  parseRetryAfter,
  serverClockOffset,
} from './http-headers';

describe('parseLinkHeader', () => {
  it('reads every relation of a Procore paging header', () => {
    const header =
      '<https://api.procore.com/rest/v1.0/budget_views/7/detail_rows?page=1&per_page=100&project_id=5>; rel="first", ' +
      '<https://api.procore.com/rest/v1.0/budget_views/7/detail_rows?page=1&per_page=100&project_id=5>; rel="prev", ' +
      '<https://api.procore.com/rest/v1.0/budget_views/7/detail_rows?page=3&per_page=100&project_id=5>; rel="next", ' +
      '<https://api.procore.com/rest/v1.0/budget_views/7/detail_rows?page=9&per_page=100&project_id=5>; rel="last"';
    const links = parseLinkHeader(header);
    expect(Object.keys(links).sort()).toEqual(['first', 'last', 'next', 'prev']);
    expect(new URL(links.next).searchParams.get('page')).toBe('3');
    expect(new URL(links.last).searchParams.get('page')).toBe('9');
  });

  it('copes with unquoted and multi-valued rel, extra parameters and commas inside URLs', () => {
    const links = parseLinkHeader(
      '<https://x/a?ids=1,2;3&page=2>; title="a, b"; rel=next, <https://x/a?page=5>; rel="last  LAST-ALIAS"',
    );
    expect(links.next).toBe('https://x/a?ids=1,2;3&page=2');
    expect(links.last).toBe('https://x/a?page=5');
    expect(links['last-alias']).toBe('https://x/a?page=5');
  });

  it('is empty for a missing or unreadable header', () => {
    expect(parseLinkHeader(null)).toEqual({});
    expect(parseLinkHeader('')).toEqual({});
    expect(parseLinkHeader('garbage')).toEqual({});
    expect(parseLinkHeader('<https://x/a>; title="no rel"')).toEqual({});
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-25T10:00:00Z');

  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
  });

  it('reads an HTTP date, never negative', () => {
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });

  it('measures an HTTP date against the server’s clock when its offset is known', () => {
    // The server's clock is an hour ahead: its "30 seconds from now" is an hour and 30 s on ours.
    expect(parseRetryAfter('Wed, 25 Nov 2026 11:00:30 GMT', now, 3_600_000)).toBe(30_000);
    expect(serverClockOffset('Wed, 25 Nov 2026 11:00:00 GMT', now)).toBe(3_600_000);
    expect(serverClockOffset(undefined, now)).toBeUndefined();
    expect(serverClockOffset('yesterday-ish', now)).toBeUndefined();
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
  });
});

describe('rate-limit and count headers', () => {
  const headers = (values: Record<string, string>) => ({
    get: (name: string) => values[name.toLowerCase()] ?? null,
  });

  it('reads all three X-Rate-Limit headers, Reset in seconds', () => {
    expect(
      parseRateLimitHeaders(
        headers({ 'x-rate-limit-limit': '25', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1790000000' }),
      ),
    ).toEqual({ limit: 25, remaining: 0, resetAtMs: 1_790_000_000_000, window: 1_790_000_000 });
  });

  it('moves Reset onto our clock by the response’s Date (a server clock an hour behind)', () => {
    const now = 1_790_003_600_000;
    const read = parseRateLimitHeaders(
      headers({ 'x-rate-limit-limit': '25', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '1790000002', date: new Date(1_790_000_000_000).toUTCString() }),
      now,
    );
    expect(read).toEqual({ limit: 25, remaining: 0, resetAtMs: now + 2000, window: 1_790_000_002 });
  });

  it('ignores an incomplete or malformed set', () => {
    expect(parseRateLimitHeaders(headers({ 'x-rate-limit-limit': '25' }))).toBeUndefined();
    expect(
      parseRateLimitHeaders(
        headers({ 'x-rate-limit-limit': '25', 'x-rate-limit-remaining': '-1', 'x-rate-limit-reset': '1' }),
      ),
    ).toBeUndefined();
  });

  it('reads whole counts only', () => {
    expect(parseCountHeader('20000')).toBe(20000);
    expect(parseCountHeader('1e3')).toBeUndefined();
    expect(parseCountHeader('')).toBeUndefined();
    expect(parseCountHeader(undefined)).toBeUndefined();
  });
});
