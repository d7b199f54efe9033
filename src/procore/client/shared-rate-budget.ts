import { createHash } from 'node:crypto';
import Redis from 'ioredis';
import { RateLimitHeaders } from './http-headers';
import { NO_LOGGER, ProcoreLogger } from './procore-client.options';

/**
 * Procore's rate-limit budget as every process of one deployment sees it. Each process paces its
 * own calls with its RateLimiter; this adds what the others spent: before a request a process
 * reserves one from the shared budget (waiting for the window's reset when it is spent), and after
 * the answer it publishes the headers it read.
 */
export interface SharedRateBudget {
  /** Resolves when a request may be sent; `maxWaitMs` bounds one wait for a reset (beyond it:
   * {@link SharedBudgetWaitTooLong}). */
  reserve(maxWaitMs: number): Promise<void>;
  /** An answer's rate-limit headers (`retryAtMs`: a 429's Retry-After, on our clock). Never throws. */
  observe(headers: RateLimitHeaders | undefined, retryAtMs?: number): void;
  /** Time spent waiting for a reset, summed over this process's callers. */
  readonly waitedMs: number;
  close(): Promise<void>;
}

export class SharedBudgetWaitTooLong extends Error {
  constructor(readonly resetAtMs: number) {
    super(`shared rate limit resets at ${new Date(resetAtMs).toISOString()}`);
  }
}

/** Reset has one-second resolution: come back a little after it (as RateLimiter does). */
const MARGIN_MS = 100;
/** A fresh window whose budget is spent before any answer named its reset: ask again after this. */
const UNKNOWN_RESET_POLL_MS = 100;
/** The hash outlives Procore's longest window (an hour) and then goes. */
const TTL_MS = 2 * 3_600_000;

/**
 * The shared state: one Redis hash per Procore app, company and API (`limit`, `remaining` to
 * reserve in the current window, `reset` epoch ms — 0 while a fresh window's reset is unknown —
 * and `window`, the server's own name for it). Both scripts run atomically in Redis.
 *
 * reserve(now, reserve, margin, ttl) → {1, 0} go; {0, waitMs} wait for the reset; {0, -1} ask again
 * soon. Nothing known yet: go, counted in `probes` (each process's RateLimiter lets one probe out at
 * a time; the first answer's budget is lowered by the other probes still in flight). A window whose
 * reset has passed becomes a fresh one with the full limit, counted down by reservations until an
 * answer from it names its reset.
 */
const RESERVE_LUA = `
local limit = tonumber(redis.call('HGET', KEYS[1], 'limit'))
if not limit then
  redis.call('HINCRBY', KEYS[1], 'probes', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 0}
end
local now = tonumber(ARGV[1])
local keep = tonumber(ARGV[2])
local margin = tonumber(ARGV[3])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset')) or 0
local remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining')) or 0
if reset > 0 and now >= reset + margin then
  remaining = limit
  reset = 0
  redis.call('HSET', KEYS[1], 'remaining', remaining, 'reset', 0)
end
if remaining > keep then
  redis.call('HINCRBY', KEYS[1], 'remaining', -1)
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 0}
end
if reset > 0 then return {0, reset + margin - now} end
return {0, -1}
`;

/**
 * observe(limit, remaining, reset, window, ttl): an answer's headers. An answer from an older window
 * (or from the window that has ended, while the fresh one is counted) changes nothing. From the
 * current window it may only lower the budget (answers arrive out of order; in-flight reservations
 * are already counted). From a newer window it names that window: the budget becomes what the
 * server says, or less when more was reserved since the window began.
 */
const OBSERVE_LUA = `
local limit = tonumber(ARGV[1])
local remaining = tonumber(ARGV[2])
local reset = tonumber(ARGV[3])
local window = tonumber(ARGV[4])
local known = tonumber(redis.call('HGET', KEYS[1], 'window'))
local knownReset = tonumber(redis.call('HGET', KEYS[1], 'reset')) or 0
local left = tonumber(redis.call('HGET', KEYS[1], 'remaining'))
if known and window < known then return 0 end
if known and window == known then
  if knownReset == 0 then return 0 end
  redis.call('HSET', KEYS[1], 'limit', limit, 'remaining', math.min(left or remaining, remaining))
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
if left and knownReset == 0 then remaining = math.min(left, remaining) end
if not known then
  local probes = tonumber(redis.call('HGET', KEYS[1], 'probes')) or 1
  remaining = math.max(0, remaining - (probes - 1))
  redis.call('HDEL', KEYS[1], 'probes')
end
redis.call('HSET', KEYS[1], 'limit', limit, 'remaining', remaining, 'reset', reset, 'window', window)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`;

/** A 429's Retry-After: nobody sends before `retryAt` (ARGV[1]); the window after it is fresh. */
const REFUSED_LUA = `
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset')) or 0
redis.call('HSET', KEYS[1], 'remaining', 0, 'reset', math.max(reset, tonumber(ARGV[1])))
if not redis.call('HGET', KEYS[1], 'limit') then redis.call('HSET', KEYS[1], 'limit', 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
`;

type BudgetRedis = Redis & {
  procoreReserve(key: string, now: number, reserve: number, margin: number, ttl: number): Promise<[number, number]>;
  procoreObserve(key: string, limit: number, remaining: number, reset: number, window: number, ttl: number): Promise<number>;
  procoreRefused(key: string, retryAt: number, ttl: number): Promise<number>;
};

export interface RedisRateBudgetOptions {
  redisUrl: string;
  /** Key prefix (the deployment's queue prefix). */
  prefix: string;
  /** What identifies one Procore budget: the API, the app (client id) and the company. */
  apiUrl: string;
  clientId: string;
  companyId: number;
  /** Requests kept in hand (as RateLimiter's reserve). */
  reserve?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  logger?: ProcoreLogger;
}

/**
 * {@link SharedRateBudget} on Redis. When Redis does not answer, the process falls back to pacing
 * by its own RateLimiter alone (logged once, and once more when Redis answers again): a Redis
 * outage slows nothing down, at the risk of a 429 that the client then waits out.
 */
export class RedisRateBudget implements SharedRateBudget {
  readonly key: string;
  private readonly redis: BudgetRedis;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly logger: ProcoreLogger;
  private degraded = false;
  private totalWaitMs = 0;
  /** Resolves once Redis first answers, or after a short wait: a call at start-up does not find
   * the connection still opening and fall back for nothing. */
  private readonly firstConnection: Promise<void>;

  constructor(private readonly options: RedisRateBudgetOptions) {
    const identity = createHash('sha256').update(`${options.apiUrl}\n${options.clientId}\n${options.companyId}`).digest('hex').slice(0, 24);
    this.key = `${options.prefix}:procore-rate-budget:${identity}`;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.logger = options.logger ?? NO_LOGGER;
    // No offline queue and a short command timeout: a missing Redis must not hold calls up.
    const redis = new Redis(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 1_000, lazyConnect: false });
    redis.on('error', () => undefined); // reported once by degrade()
    redis.defineCommand('procoreReserve', { numberOfKeys: 1, lua: RESERVE_LUA });
    redis.defineCommand('procoreObserve', { numberOfKeys: 1, lua: OBSERVE_LUA });
    redis.defineCommand('procoreRefused', { numberOfKeys: 1, lua: REFUSED_LUA });
    this.redis = redis as BudgetRedis;
    this.firstConnection = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2_000);
      timer.unref();
      redis.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  get waitedMs(): number {
    return this.totalWaitMs;
  }

  async reserve(maxWaitMs: number): Promise<void> {
    await this.firstConnection;
    for (;;) {
      const now = this.now();
      let answer: [number, number];
      try {
        answer = await this.redis.procoreReserve(this.key, now, this.options.reserve ?? 0, MARGIN_MS, TTL_MS);
      } catch (error) {
        this.degrade(error);
        return;
      }
      this.recovered();
      const [go, wait] = answer.map(Number);
      if (go === 1) return;
      const waitMs = wait < 0 ? UNKNOWN_RESET_POLL_MS : wait;
      if (waitMs > maxWaitMs) throw new SharedBudgetWaitTooLong(now + waitMs - MARGIN_MS);
      this.totalWaitMs += waitMs;
      await this.sleep(waitMs);
    }
  }

  observe(headers: RateLimitHeaders | undefined, retryAtMs?: number): void {
    const written =
      retryAtMs !== undefined
        ? this.redis.procoreRefused(this.key, retryAtMs, TTL_MS)
        : headers
          ? this.redis.procoreObserve(this.key, headers.limit, headers.remaining, headers.resetAtMs, headers.window ?? Math.round(headers.resetAtMs / 1000), TTL_MS)
          : undefined;
    written?.then(
      () => this.recovered(),
      (error: unknown) => this.degrade(error),
    );
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private degrade(error: unknown): void {
    if (this.degraded) return;
    this.degraded = true;
    this.logger.warn(
      `Procore rate budget: Redis does not answer (${(error as Error)?.message ?? String(error)}); pacing Procore calls by this process alone until it does`.replace(
        /([a-z][a-z0-9+.-]*:\/\/)[^@\s/]*@/gi,
        '$1',
      ),
    );
  }

  private recovered(): void {
    if (!this.degraded) return;
    this.degraded = false;
    this.logger.log('Procore rate budget: Redis answers again; sharing the budget with the other processes');
  }
}
