import { backoffDelay, RetryLater, withRetries } from './retry-policy';

const policy = { baseDelayMs: 100, maxDelayMs: 10_000 };
const top = () => 0.999999;

describe('backoffDelay', () => {
  it('grows exponentially up to the cap, with full jitter', () => {
    expect(backoffDelay(policy, 1, top)).toBe(99);
    expect(backoffDelay(policy, 3, top)).toBe(399);
    expect(backoffDelay(policy, 20, top)).toBe(9999);
    expect(backoffDelay(policy, 5, () => 0)).toBe(0);
  });

  it('with half jitter never comes back sooner than half the cap', () => {
    expect(backoffDelay(policy, 1, () => 0, 'half')).toBe(50);
    expect(backoffDelay(policy, 4, () => 0, 'half')).toBe(400);
    expect(backoffDelay(policy, 4, top, 'half')).toBe(800);
    expect(backoffDelay(policy, 30, top, 'half')).toBe(10_000);
  });
});

describe('withRetries', () => {
  it('runs the attempt again after a RetryLater, numbering attempts from 1', async () => {
    const seen: number[] = [];
    const retries: Array<[number, number, string]> = [];
    const result = await withRetries(
      5,
      async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new RetryLater(attempt, `failure ${attempt}`, new Error('x'));
        return 'done';
      },
      (later, retry) => retries.push([retry, later.delayMs, later.reason]),
    );
    expect(result).toBe('done');
    expect(seen).toEqual([1, 2, 3]);
    expect(retries).toEqual([
      [1, 1, 'failure 1'],
      [2, 2, 'failure 2'],
    ]);
  });

  it('throws the last RetryLater\'s error once the attempts are spent', async () => {
    const final = new Error('still failing');
    let calls = 0;
    const error = await withRetries(3, async () => {
      calls++;
      throw new RetryLater(0, 'failing', final);
    }).catch((e: unknown) => e);
    expect(error).toBe(final);
    expect(calls).toBe(3);
  });

  it('throws anything else at once', async () => {
    const permanent = new Error('permanent');
    let calls = 0;
    await expect(
      withRetries(5, async () => {
        calls++;
        throw permanent;
      }),
    ).rejects.toBe(permanent);
    expect(calls).toBe(1);
  });

  it('waits the delay the attempt asked for', async () => {
    const started = Date.now();
    let calls = 0;
    await withRetries(2, async () => {
      if (++calls === 1) throw new RetryLater(120, 'busy', new Error('busy'));
      return calls;
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});
