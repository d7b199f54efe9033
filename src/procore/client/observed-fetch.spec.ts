import { observedFetch } from './observed-fetch';

describe('observedFetch', () => {
  it('reports each answer with its rate-limit headers, and a request that got none', async () => {
    const seen: Array<[number | undefined, { limit?: number; remaining?: number }]> = [];
    const observer = { response: (status: number | undefined, rateLimit: { limit?: number; remaining?: number }) => void seen.push([status, rateLimit]) };
    const answer = new Response('{}', { status: 429, headers: { 'X-Rate-Limit-Limit': '3600', 'X-Rate-Limit-Remaining': '0' } });
    const fetchOk = observedFetch(observer, (async () => answer) as unknown as typeof fetch);
    expect(await fetchOk('https://api.procore.test/x')).toBe(answer);
    const fetchDown = observedFetch(observer, (async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof fetch);
    await expect(fetchDown('https://api.procore.test/x')).rejects.toThrow('fetch failed');
    expect(seen).toEqual([
      [429, { limit: 3600, remaining: 0 }],
      [undefined, {}],
    ]);
  });
});
