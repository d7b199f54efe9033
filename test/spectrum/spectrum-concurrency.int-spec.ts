import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { join } from 'node:path';
import Redis from 'ioredis';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { SpectrumPermitTimeoutError, SpectrumSemaphore } from '../../src/spectrum/client/spectrum-concurrency';
import { PrivateRedis } from '../chaos/infra/private-redis';
import { freePort } from '../chaos/infra/run-directory';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('SpectrumSemaphore (real Redis)', () => {
  let redis: Redis;
  let prefix: string;
  const semaphores: SpectrumSemaphore[] = [];
  const make = (options: Partial<ConstructorParameters<typeof SpectrumSemaphore>[0]> = {}) => {
    // Each instance gets its own connection, like a separate worker process.
    const semaphore = new SpectrumSemaphore({ redis: REDIS_URL, keyPrefix: prefix, limit: 3, leaseMs: 2000, ...options });
    semaphores.push(semaphore);
    return semaphore;
  };

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  beforeEach(() => {
    prefix = `test:spectrum-semaphore:${randomBytes(6).toString('hex')}`;
  });
  afterEach(async () => {
    await Promise.all(semaphores.splice(0).map((s) => s.close()));
    for await (const keys of redis.scanStream({ match: `${prefix}:*` })) {
      if ((keys as string[]).length) await redis.del(...(keys as string[]));
    }
  });
  afterAll(async () => {
    await redis.quit();
  });

  it('never lets two processes together exceed the limit', async () => {
    const a = make();
    const b = make();
    let inUse = 0;
    let peak = 0;
    let done = 0;
    const worker = (semaphore: SpectrumSemaphore) =>
      semaphore.withPermit(async (permit) => {
        expect(permit.lost).toBe(false);
        inUse++;
        peak = Math.max(peak, inUse);
        expect(await semaphore.count()).toBeLessThanOrEqual(3);
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 15));
        inUse--;
        done++;
      });
    await Promise.all(Array.from({ length: 24 }, (_, i) => worker(i % 2 ? a : b)));
    expect(done).toBe(24);
    expect(peak).toBe(3);
    expect(await a.count()).toBe(0);
  });

  it('lets a holder keep its permit for many calls by renewing the lease', async () => {
    const a = make({ limit: 1, leaseMs: 200 });
    const b = make({ limit: 1, leaseMs: 200 });
    const permit = await a.acquire();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(permit.lost).toBe(false);
    expect(await b.tryAcquire()).toBeNull();
    await permit.release();
    const next = await b.tryAcquire();
    expect(next).not.toBeNull();
    await next!.release();
  });

  it('frees the permit of a crashed holder once its lease runs out', async () => {
    const child = spawnHolder(prefix, 800);
    try {
      await waitForLine(child, 'acquired');
      const other = make({ limit: 1, leaseMs: 800 });
      expect(await other.count()).toBe(1);
      expect(await other.tryAcquire()).toBeNull();
      child.kill('SIGKILL');
      const started = Date.now();
      const permit = await other.acquire({ timeoutMs: 5000 });
      const waited = Date.now() - started;
      // It waited for the dead holder's lease (renewed every ~270 ms) to run out.
      expect(waited).toBeGreaterThan(300);
      expect(waited).toBeLessThan(2000);
      expect(permit.lost).toBe(false);
      await permit.release();
    } finally {
      child.kill('SIGKILL');
    }
  }, 20000);

  it('takes up to N permits for N parallel loops, at least one', async () => {
    const a = make({ limit: 3 });
    const b = make({ limit: 3 });
    const held = await a.acquireUpTo(2);
    expect(held).toHaveLength(2);
    const rest = await b.acquireUpTo(5);
    expect(rest).toHaveLength(1);
    await Promise.all([...held, ...rest].map((p) => p.release()));
  });

  it('wakes a waiter as soon as a permit is released elsewhere', async () => {
    const a = make({ limit: 1, pollMinMs: 2000, pollMaxMs: 2000 });
    const b = make({ limit: 1, pollMinMs: 2000, pollMaxMs: 2000 });
    const held = await a.acquire();
    const waiting = b.acquire();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const released = Date.now();
    await held.release();
    const permit = await waiting;
    expect(Date.now() - released).toBeLessThan(500);
    await permit.release();
  });

  it('gives up waiting after timeoutMs', async () => {
    const a = make({ limit: 1 });
    const held = await a.acquire();
    const error = await make({ limit: 1 }).acquire({ timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpectrumPermitTimeoutError);
    expect(error).toMatchObject({ transient: true });
    await held.release();
  });

  it('tells a holder that lost its lease to stop', async () => {
    const a = make({ limit: 1, leaseMs: 300, renewEveryMs: 100 });
    const permit = await a.acquire();
    await redis.zadd(`${prefix}:holders`, 1, permit.id); // the lease ended long ago
    expect(await permit.renew()).toBe(false);
    expect(permit.lost).toBe(true);
    expect(await a.count()).toBe(0);
  });

  it('keeps the cap across a Redis restart: permits in use re-register before any new one is granted', async () => {
    const redis = await PrivateRedis.start(await freePort(), mkdtempSync(join(tmpdir(), 'semaphore-redis-')));
    const holder = new SpectrumSemaphore({ redis: redis.url, keyPrefix: prefix, limit: 2, leaseMs: 3000, renewEveryMs: 1000, recoveryMs: 3000 });
    const newcomer = new SpectrumSemaphore({ redis: redis.url, keyPrefix: prefix, limit: 2, leaseMs: 3000, renewEveryMs: 1000, recoveryMs: 3000 });
    semaphores.push(holder, newcomer);
    try {
      await new Promise((resolve) => setTimeout(resolve, 3000)); // past the recovery window of a fresh server
      const held = await holder.acquireUpTo(2); // two calls in flight
      expect(held).toHaveLength(2);
      await redis.down(); // restarts empty: every holder entry gone
      await redis.up();
      // For longer than the recovery window, the newcomer never gets a permit while both are in use.
      for (const until = Date.now() + 5000; Date.now() < until; ) {
        expect(await newcomer.tryAcquire().catch(() => null)).toBeNull();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(held.map((permit) => permit.lost)).toEqual([false, false]);
      expect(await newcomer.count()).toBe(2);
      await held[0].release(); // one call ends: its permit goes to the newcomer
      const next = await newcomer.acquire({ timeoutMs: 5000 });
      expect(await newcomer.count()).toBe(2);
      await Promise.all([next.release(), held[1].release()]);
    } finally {
      await Promise.all(semaphores.splice(semaphores.indexOf(holder), 2).map((s) => s.close()));
      await redis.down();
    }
  }, 60_000);

  it('releases its permits on close', async () => {
    const a = make({ limit: 2 });
    await a.acquire();
    await a.acquire();
    await a.close();
    expect(await make({ limit: 2 }).count()).toBe(0);
  });
});

/** A separate worker process that takes a permit and never gives it back. */
function spawnHolder(prefix: string, leaseMs: number): ChildProcess {
  const modulePath = path.resolve(__dirname, '../../src/spectrum/client/spectrum-concurrency.ts');
  const script = `
    const { SpectrumSemaphore } = require(${JSON.stringify(modulePath)});
    const s = new SpectrumSemaphore({ redis: ${JSON.stringify(REDIS_URL)}, keyPrefix: ${JSON.stringify(prefix)}, limit: 1, leaseMs: ${leaseMs} });
    s.acquire().then(() => console.log('acquired'));
    setInterval(() => undefined, 1000);
  `;
  return spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

function waitForLine(child: ChildProcess, line: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(line)) resolve();
    });
    child.on('exit', (code) => reject(new Error(`holder exited (${code}) before "${line}"`)));
  });
}
