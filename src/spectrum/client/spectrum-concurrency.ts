import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Redis from 'ioredis';
import { SpectrumError } from './spectrum.errors';

/**
 * Why ours and not `redis-semaphore` (npm; its Semaphore read at its source: a sorted set scored by
 * the acquirer's own Date.now(), acquire polled every `retryInterval`, refresh returning 0 when the
 * member is gone): we keep ours, for measurable reasons —
 * - Redis loss: after a restart its refresh finds no member and the lock is lost (LostLockError) while
 *   the call still runs, and anyone may acquire at once; ours re-registers a permit in use (RENEW) and
 *   grants no new one while Redis is younger than `recoveryMs`, so the cap holds across the restart
 *   (test/spectrum/spectrum-concurrency.int-spec.ts, the chaos suite's cap check).
 * - Time: its scores are each process's clock (skew between machines shortens or lengthens leases);
 *   ours are Redis server time.
 * - Fairness and latency: it polls at a fixed interval; ours wakes waiters on a release (pub/sub) and
 *   otherwise backs off up to the earliest lease end — a freed permit is taken in about a round trip.
 * - Per-call release: both release one identifier; ours also lets one process hold K permits for K
 *   loops (acquireUpTo), each given back when its own loop ends (graceful shutdown).
 * - Tests: ours is covered against a real Redis and separate processes (crash, lease, restart).
 * Revisit if redis-semaphore gains server time and re-registration after Redis loss.
 *
 * A Redis semaphore that holds `SPECTRUM_CONCURRENCY` across every worker process sharing one
 * Redis. Holders are members of a sorted set scored by lease expiry (Redis server time, so process
 * clocks do not matter); Lua scripts acquire, renew and release atomically. A permit whose process
 * died frees itself when its lease runs out. Permits are meant to be held for a while: an exporter
 * runs K loops, each holding one permit for its lifetime, so the per-call cost is zero; leases are
 * renewed in the background.
 */

export interface SpectrumSemaphoreOptions {
  /** A connected ioredis client (shared; the semaphore never closes it) or a redis:// URL. */
  redis: Redis | string;
  /** Keys live under `${keyPrefix}:…`, e.g. `connector:spectrum:concurrency`. */
  keyPrefix: string;
  /** Permits across all processes. */
  limit: number;
  /** A holder that stops renewing loses its permit after this long. Default 30 000. */
  leaseMs?: number;
  /** Default a third of the lease. */
  renewEveryMs?: number;
  /**
   * For how long after Redis (re)starts no new permit is granted, so that the permits still in use
   * re-register first (a restart empties the holders). Default renewEveryMs + 1 s, at least 5 s.
   */
  recoveryMs?: number;
  /** Polling backoff while waiting for a permit (a release also wakes waiters at once). */
  pollMinMs?: number;
  pollMaxMs?: number;
}

export interface AcquireOptions {
  /** Give up after this long (SpectrumPermitTimeoutError). Default: wait indefinitely. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class SpectrumPermitTimeoutError extends SpectrumError {
  readonly transient = true;
  constructor(limit: number, waitedMs: number) {
    super(`no concurrency permit free within ${waitedMs} ms (limit ${limit} across all workers)`);
  }
}

// KEYS[1] holders (zset: id → lease expiry ms). ARGV: id, limit, leaseMs, recoveryMs.
// Returns {1} when acquired, {0, ms until worth asking again} when full — or when Redis started
// less than recoveryMs ago: its holders may be gone with a restart, and the permits still in use
// elsewhere re-register (RENEW) before any new one is granted.
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local holder = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not holder then
  local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)')) * 1000
  local recovery = tonumber(ARGV[4])
  if uptime < recovery then return {0, recovery - uptime} end
end
if holder or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
  if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
  return {1}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(0, tonumber(first[2]) - now)}
`;

// KEYS[1] holders. ARGV: id, leaseMs, limit. 1 = renewed; 2 = re-registered (its entry was gone —
// Redis restarted empty — and there was room); 0 = the permit is gone (its lease had run out, or
// no room).
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
local result = 1
if score and tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
if not score then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
  result = 2
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
if redis.call('PTTL', KEYS[1]) < lease then redis.call('PEXPIRE', KEYS[1], lease) end
return result
`;

// KEYS[1] holders. ARGV: id, channel. Returns 1 when the permit was still held.
const RELEASE = `
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[1])
return removed
`;

// KEYS[1] holders. Live holders now.
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

class Script {
  readonly sha: string;
  constructor(readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** EVALSHA, loading the script on NOSCRIPT (after a Redis restart or on a fresh server). */
  async run(redis: Redis, keys: string[], args: Array<string | number>): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).includes('NOSCRIPT')) throw error;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const SCRIPTS = {
  acquire: new Script(ACQUIRE),
  renew: new Script(RENEW),
  release: new Script(RELEASE),
  count: new Script(COUNT),
};

/** One held permit. Check `lost` before each Spectrum call (and acquire another when it is). */
export class SpectrumPermit {
  private state: 'held' | 'lost' | 'released' = 'held';
  private renewedAt = Date.now();
  private timer?: NodeJS.Timeout;

  constructor(
    readonly id: string,
    private readonly semaphore: SpectrumSemaphore,
    renewEveryMs: number,
  ) {
    this.timer = setInterval(() => void this.renew(), renewEveryMs);
    this.timer.unref();
  }

  get lost(): boolean {
    return this.state === 'lost';
  }

  get released(): boolean {
    return this.state === 'released';
  }

  /** Extends the lease now (done automatically every `renewEveryMs`). False when it was lost. */
  async renew(): Promise<boolean> {
    if (this.state !== 'held') return false;
    try {
      const renewed = await this.semaphore.renewLease(this.id);
      if (this.state !== 'held') return false;
      if (renewed) this.renewedAt = Date.now();
      else this.markLost();
      return renewed;
    } catch {
      // Redis unreachable: the lease may still be valid; once it cannot be, the permit is lost.
      if (Date.now() - this.renewedAt >= this.semaphore.leaseMs) this.markLost();
      return this.state === 'held';
    }
  }

  /** Gives the permit back and wakes waiters in every process. Safe to call twice. */
  async release(): Promise<void> {
    if (this.state === 'released') return;
    this.stop('released');
    await this.semaphore.releaseLease(this);
  }

  private markLost(): void {
    this.stop('lost');
    this.semaphore.forget(this);
  }

  private stop(state: 'lost' | 'released'): void {
    this.state = state;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export class SpectrumSemaphore {
  readonly limit: number;
  readonly leaseMs: number;
  private readonly redis: Redis;
  private readonly ownsRedis: boolean;
  private readonly holdersKey: string;
  private readonly channel: string;
  private readonly renewEveryMs: number;
  /** After Redis (re)starts, no new permit for this long: holders re-register first. */
  private readonly recoveryMs: number;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private readonly held = new Set<SpectrumPermit>();
  private readonly waiters = new Set<() => void>();
  private subscriber?: Redis;
  private subscribing?: Promise<void>;
  private closed = false;

  constructor(options: SpectrumSemaphoreOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new Error('limit must be a positive integer');
    if (!options.keyPrefix) throw new Error('keyPrefix is required');
    this.limit = options.limit;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.renewEveryMs = options.renewEveryMs ?? Math.max(10, Math.floor(this.leaseMs / 3));
    if (this.renewEveryMs >= this.leaseMs) throw new Error('renewEveryMs must be shorter than leaseMs');
    // Every holder renews within renewEveryMs (and at once when its connection is back).
    this.recoveryMs = options.recoveryMs ?? Math.max(5_000, this.renewEveryMs + 1_000);
    this.pollMinMs = options.pollMinMs ?? 10;
    this.pollMaxMs = options.pollMaxMs ?? 250;
    this.ownsRedis = typeof options.redis === 'string';
    if (typeof options.redis === 'string') {
      // Connects on first use; errors reach the caller through the failed command.
      this.redis = new Redis(options.redis, { maxRetriesPerRequest: 2, lazyConnect: true });
      this.redis.on('error', () => undefined);
    } else {
      this.redis = options.redis;
    }
    this.holdersKey = `${options.keyPrefix}:holders`;
    this.channel = `${options.keyPrefix}:released`;
    // Connected again (Redis may have restarted empty): the permits held here re-register now.
    this.redis.on('ready', () => {
      for (const permit of this.held) void permit.renew();
    });
  }

  /** Takes a permit if one is free right now. */
  async tryAcquire(): Promise<SpectrumPermit | null> {
    return (await this.attempt()).permit ?? null;
  }

  /** Waits for a permit (a release anywhere wakes waiters; otherwise polls with backoff). */
  async acquire(options: AcquireOptions = {}): Promise<SpectrumPermit> {
    const started = Date.now();
    let pollMs = this.pollMinMs;
    for (;;) {
      this.assertOpen();
      if (options.signal?.aborted) throw options.signal.reason ?? new Error('aborted');
      const { permit, retryInMs } = await this.attempt();
      if (permit) return permit;
      const waited = Date.now() - started;
      if (options.timeoutMs !== undefined && waited >= options.timeoutMs) {
        throw new SpectrumPermitTimeoutError(this.limit, waited);
      }
      await this.ensureSubscribed().catch(() => undefined);
      // Sleep until a release, the earliest lease end, or the poll interval, whichever comes first.
      let sleepMs = Math.min(pollMs, Math.max(1, retryInMs + 1));
      sleepMs = Math.ceil(sleepMs / 2 + (Math.random() * sleepMs) / 2);
      if (options.timeoutMs !== undefined) sleepMs = Math.min(sleepMs, Math.max(1, options.timeoutMs - waited));
      await this.waitForRelease(sleepMs, options.signal);
      pollMs = Math.min(this.pollMaxMs, pollMs * 2);
    }
  }

  /**
   * Waits for one permit, then takes up to `max` in total of those free right now: how many
   * parallel loops this process may run.
   */
  async acquireUpTo(max: number, options: AcquireOptions = {}): Promise<SpectrumPermit[]> {
    const permits = [await this.acquire(options)];
    while (permits.length < max) {
      const next = await this.tryAcquire();
      if (!next) break;
      permits.push(next);
    }
    return permits;
  }

  /** Runs `work` holding a permit; releases it afterwards whatever happens. */
  async withPermit<T>(work: (permit: SpectrumPermit) => Promise<T>, options: AcquireOptions = {}): Promise<T> {
    const permit = await this.acquire(options);
    try {
      return await work(permit);
    } finally {
      await permit.release().catch(() => undefined);
    }
  }

  /** Live permits across all processes. */
  async count(): Promise<number> {
    return Number(await SCRIPTS.count.run(this.redis, [this.holdersKey], []));
  }

  /** At application shutdown, once the workers have drained (each loop released its own permit). */
  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** Releases this process's permits, stops listening, and closes connections it opened. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all([...this.held].map((permit) => permit.release().catch(() => undefined)));
    this.closed = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    if (this.subscriber) await this.subscriber.quit().catch(() => this.subscriber?.disconnect());
    if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  // ---- used by SpectrumPermit ----------------------------------------------------------------

  /** @internal */
  async renewLease(id: string): Promise<boolean> {
    return Number(await SCRIPTS.renew.run(this.redis, [this.holdersKey], [id, this.leaseMs, this.limit])) > 0;
  }

  /** @internal */
  async releaseLease(permit: SpectrumPermit): Promise<void> {
    this.held.delete(permit);
    await SCRIPTS.release.run(this.redis, [this.holdersKey], [permit.id, this.channel]);
  }

  /** @internal */
  forget(permit: SpectrumPermit): void {
    this.held.delete(permit);
  }

  // ---- internals -----------------------------------------------------------------------------

  private async attempt(): Promise<{ permit?: SpectrumPermit; retryInMs: number }> {
    this.assertOpen();
    const id = `${hostname()}:${process.pid}:${randomBytes(6).toString('hex')}`;
    const result = (await SCRIPTS.acquire.run(this.redis, [this.holdersKey], [id, this.limit, this.leaseMs, this.recoveryMs])) as number[];
    if (Number(result[0]) === 1) {
      const permit = new SpectrumPermit(id, this, this.renewEveryMs);
      this.held.add(permit);
      return { permit, retryInMs: 0 };
    }
    return { retryInMs: Number(result[1] ?? this.pollMaxMs) };
  }

  private ensureSubscribed(): Promise<void> {
    if (!this.subscribing) {
      const subscriber = this.redis.duplicate();
      this.subscriber = subscriber;
      subscriber.on('error', () => undefined);
      subscriber.on('message', () => {
        for (const wake of this.waiters) wake();
      });
      this.subscribing = subscriber.subscribe(this.channel).then(() => undefined);
      this.subscribing.catch(() => {
        subscriber.disconnect();
        this.subscriber = undefined;
        this.subscribing = undefined;
      });
    }
    return this.subscribing;
  }

  private waitForRelease(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('the Spectrum semaphore is closed');
  }
}
