/**
 * Procore-like rate limits for the stand-in: fixed windows (a short "spike" bucket and an hourly
 * one). Every request counts, refused ones too. The headers report the bucket closer to
 * exhaustion, as Procore does.
 */
export interface BucketConfig {
  limit: number;
  windowSeconds: number;
}

export interface RateLimitConfig {
  spike?: BucketConfig;
  hourly?: BucketConfig;
}

export interface RateLimitVerdict {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Unix seconds. */
  reset: number;
}

class Bucket {
  private count = 0;
  private resetAtMs = 0;

  constructor(readonly config: BucketConfig) {
    if (!(config.limit > 0) || !(config.windowSeconds > 0)) {
      throw new Error('stand-in: a rate-limit bucket needs a positive limit and windowSeconds');
    }
  }

  roll(now: number): void {
    if (now >= this.resetAtMs) {
      this.count = 0;
      // Reset falls on a whole second, as the header can only say whole seconds.
      this.resetAtMs = Math.ceil((now + this.config.windowSeconds * 1000) / 1000) * 1000;
    }
  }

  add(n: number): void {
    this.count += n;
  }

  get used(): number {
    return this.count;
  }

  get remaining(): number {
    return Math.max(0, this.config.limit - this.count);
  }

  get reset(): number {
    return this.resetAtMs / 1000;
  }
}

export class StandInRateLimits {
  private buckets: Bucket[] = [];

  constructor(config: RateLimitConfig = {}) {
    this.configure(config);
  }

  /** Replaces the buckets (counts start from zero). No hourly bucket given: a very high one. */
  configure(config: RateLimitConfig): void {
    const buckets: Bucket[] = [];
    if (config.spike) buckets.push(new Bucket(config.spike));
    buckets.push(new Bucket(config.hourly ?? { limit: 1_000_000, windowSeconds: 3600 }));
    this.buckets = buckets;
  }

  /** Counts one request and says whether it is allowed. */
  hit(now: number): RateLimitVerdict {
    for (const bucket of this.buckets) bucket.roll(now);
    const allowed = this.buckets.every((bucket) => bucket.used < bucket.config.limit);
    for (const bucket of this.buckets) bucket.add(1);
    return { allowed, ...this.report() };
  }

  /** Spends `n` requests as if another application used the same credentials; without `n`,
   * everything left in the tightest bucket. */
  consume(now: number, n?: number): void {
    for (const bucket of this.buckets) bucket.roll(now);
    const amount = n ?? Math.min(...this.buckets.map((bucket) => bucket.remaining));
    for (const bucket of this.buckets) bucket.add(amount);
  }

  /** Headers for a refusal made outside the buckets (an injected 429). */
  exhaustedFor(now: number, seconds: number): RateLimitVerdict {
    const tightest = this.buckets[0];
    return {
      allowed: false,
      limit: tightest.config.limit,
      remaining: 0,
      reset: Math.ceil((now + seconds * 1000) / 1000),
    };
  }

  private report(): Omit<RateLimitVerdict, 'allowed'> {
    // The bucket closest to exhaustion; on a tie the one that resets first.
    const bucket = [...this.buckets].sort((a, b) => a.remaining - b.remaining || a.reset - b.reset)[0];
    return { limit: bucket.config.limit, remaining: bucket.remaining, reset: bucket.reset };
  }
}
