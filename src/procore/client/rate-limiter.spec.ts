import { RateLimitWaitTooLong, RateLimiter } from './rate-limiter';

/** A limiter on a fake clock: `sleep` advances time instead of waiting. */
function fakeLimiter(options: { reserve?: number; maxWaitMs?: number } = {}) {
  let now = 1_000_000;
  const sleeps: number[] = [];
  const limiter = new RateLimiter({
    now: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    reserve: options.reserve ?? 0,
    maxWaitMs: options.maxWaitMs ?? 60_000,
    marginMs: 100,
  });
  return { limiter, sleeps, clock: { get now() { return now; }, advance: (ms: number) => (now += ms) } };
}

const settled = async (promise: Promise<unknown>) => {
  let done = false;
  void promise.then(() => (done = true));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
};

describe('RateLimiter', () => {
  it('lets one request probe while nothing is known, then the rest follow', async () => {
    const { limiter } = fakeLimiter();
    await limiter.acquire();
    const second = limiter.acquire();
    expect(await settled(second)).toBe(false);
    limiter.release({ limit: 25, remaining: 24, resetAtMs: 1_010_000 });
    expect(await settled(second)).toBe(true);
  });

  it('reads a response without headers as no limit', async () => {
    const { limiter } = fakeLimiter();
    await limiter.acquire();
    limiter.release(null);
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    expect(limiter.snapshot()).toMatchObject({ mode: 'unlimited', inFlight: 3 });
  });

  it('spends the known budget, then waits for the reset before the next request', async () => {
    const { limiter, sleeps, clock } = fakeLimiter();
    await limiter.acquire();
    limiter.release({ limit: 5, remaining: 2, resetAtMs: clock.now + 3000 });
    await limiter.acquire();
    await limiter.acquire();
    expect(sleeps).toEqual([]);
    await limiter.acquire();
    expect(sleeps).toEqual([3100]);
    expect(limiter.waitedMs).toBe(3100);
    // In the fresh window the last known limit applies.
    expect(limiter.snapshot()).toMatchObject({ remaining: 4, resetAtMs: undefined });
  });

  it('counts requests in flight against the remaining budget', async () => {
    const { limiter, sleeps, clock } = fakeLimiter();
    await limiter.acquire();
    limiter.release({ limit: 10, remaining: 3, resetAtMs: clock.now + 1000 });
    await Promise.all([limiter.acquire(), limiter.acquire(), limiter.acquire()]);
    // A late answer that the server produced before the other two arrived.
    limiter.release({ limit: 10, remaining: 2, resetAtMs: clock.now + 1000 });
    expect(limiter.snapshot().remaining).toBe(0);
    await limiter.acquire();
    expect(sleeps).toEqual([1100]);
  });

  it('keeps a reserve when asked', async () => {
    const { limiter, sleeps, clock } = fakeLimiter({ reserve: 2 });
    await limiter.acquire();
    limiter.release({ limit: 10, remaining: 3, resetAtMs: clock.now + 500 });
    await limiter.acquire();
    await limiter.acquire();
    expect(sleeps).toEqual([600]);
  });

  it('never lets an out-of-order answer of the same window raise the budget', async () => {
    const { limiter, clock } = fakeLimiter();
    const reset = clock.now + 5000;
    await limiter.acquire();
    limiter.release({ limit: 25, remaining: 3, resetAtMs: reset });
    await limiter.acquire();
    limiter.release({ limit: 25, remaining: 10, resetAtMs: reset });
    expect(limiter.snapshot().remaining).toBe(2);
    // An answer from an older window is ignored.
    await limiter.acquire();
    limiter.release({ limit: 25, remaining: 24, resetAtMs: reset - 10_000 });
    expect(limiter.snapshot().remaining).toBe(1);
  });

  it('refuses to wait longer than maxWaitMs (e.g. the hourly bucket is spent)', async () => {
    const { limiter, clock } = fakeLimiter({ maxWaitMs: 10_000 });
    await limiter.acquire();
    limiter.release({ limit: 3600, remaining: 0, resetAtMs: clock.now + 1_800_000 });
    await expect(limiter.acquire()).rejects.toBeInstanceOf(RateLimitWaitTooLong);
  });

  it('after a reset with unknown new window, probes once the fresh budget is spent', async () => {
    const { limiter, clock } = fakeLimiter();
    await limiter.acquire();
    limiter.release({ limit: 1, remaining: 0, resetAtMs: clock.now + 1000 });
    await limiter.acquire(); // waits for the reset, takes the fresh window's single request
    const next = limiter.acquire();
    expect(await settled(next)).toBe(false);
    limiter.release({ limit: 1, remaining: 0, resetAtMs: clock.now + 1000 });
    await next; // waited for that window's reset too
    expect(limiter.snapshot().inFlight).toBe(1);
  });

  it('a 429’s Retry-After holds every caller until then, whatever Reset said, then the window is fresh', async () => {
    const { limiter, sleeps, clock } = fakeLimiter({ maxWaitMs: 60_000 });
    await limiter.acquire();
    limiter.release({ limit: 25, remaining: 0, resetAtMs: clock.now + 600_000, window: 1 }, clock.now + 2_000);
    await limiter.acquire();
    expect(sleeps).toEqual([2_100]);
  });
});
