/** Parsing of the response headers the Procore client acts on. Pure functions. */

/**
 * RFC 8288 (formerly 5988) `Link` header → URL by relation, e.g.
 * `<https://api/x?page=2>; rel="next", <https://api/x?page=9>; rel="last"` →
 * `{next: "https://api/x?page=2", last: "https://api/x?page=9"}`. A link with several
 * relations (`rel="next last"`) is stored under each; the first link of a relation wins.
 */
export function parseLinkHeader(header: string | null | undefined): Record<string, string> {
  const links: Record<string, string> = {};
  if (!header) return links;
  // A URL may contain commas and semicolons, so scan `<…>` first, then its parameters.
  const pattern = /<([^>]*)>((?:\s*;\s*[^;,<=\s]+\s*(?:=\s*(?:"[^"]*"|[^;,<]*))?)*)/g;
  for (const match of header.matchAll(pattern)) {
    const url = match[1].trim();
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match[2]);
    if (!rel) continue;
    for (const name of (rel[1] ?? rel[2]).toLowerCase().split(/\s+/).filter(Boolean)) {
      if (!(name in links)) links[name] = url;
    }
  }
  return links;
}

/** A whole, non-negative number header (`Total`, `Per-Page`, `X-Rate-Limit-*`), else undefined. */
export function parseCountHeader(value: string | null | undefined): number | undefined {
  if (value == null || !/^\s*\d+\s*$/.test(value)) return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : undefined;
}

/**
 * The server's clock minus ours, read from the response's `Date` header (an HTTP date every server
 * sends; one-second resolution), or undefined when it is absent or unreadable. `nowMs`: our clock
 * when the response arrived.
 */
export function serverClockOffset(dateHeader: string | null | undefined, nowMs: number): number | undefined {
  if (dateHeader == null || !/[a-z]/i.test(dateHeader)) return undefined;
  const date = Date.parse(dateHeader);
  return Number.isNaN(date) ? undefined : date - nowMs;
}

/**
 * `Retry-After` → milliseconds from `nowMs`: either delay-seconds (`"120"`) or an HTTP date, which
 * is measured against the server's clock when `serverOffsetMs` (see {@link serverClockOffset}) is
 * known. Undefined when absent or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number, serverOffsetMs = 0): number | undefined {
  if (value == null || !value.trim()) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // An HTTP date always names the day or month; anything else (e.g. "-5") is unreadable.
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - (nowMs + serverOffsetMs));
}

export interface RateLimitHeaders {
  limit: number;
  remaining: number;
  /** Epoch milliseconds, on our clock, at which the reported window resets. */
  resetAtMs: number;
  /** The window as the server named it (`X-Rate-Limit-Reset`, Unix seconds on its clock): the
   * identity of the window, free of the jitter of translating it to our clock. */
  window?: number;
}

/**
 * `X-Rate-Limit-Limit/-Remaining/-Reset` (Reset in Unix seconds), when all three are present.
 * Reset is the server's clock: with `nowMs` and a `Date` header it is moved onto ours (reset − Date
 * + now), so a server clock ahead of or behind ours neither stretches nor shortens the wait.
 */
export function parseRateLimitHeaders(
  headers: {
    get(name: string): string | null;
  },
  nowMs?: number,
): RateLimitHeaders | undefined {
  const limit = parseCountHeader(headers.get('x-rate-limit-limit'));
  const remaining = parseCountHeader(headers.get('x-rate-limit-remaining'));
  const reset = parseCountHeader(headers.get('x-rate-limit-reset'));
  if (limit === undefined || remaining === undefined || reset === undefined) return undefined;
  const offset = nowMs === undefined ? undefined : serverClockOffset(headers.get('date'), nowMs);
  return { limit, remaining, resetAtMs: reset * 1000 - (offset ?? 0), window: reset };
}
