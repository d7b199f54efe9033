import { ReadChange, ReadChanges } from '../../database/read-changes';
import { MetricsService } from '../../observability/metrics.service';
import { ReadCache, ReadScope, toJson } from './read-cache';

/** ReadChanges as the cache sees it: in sync, and changes delivered when the test says. */
class HeardChanges {
  live = true;
  private subscriber?: (change: ReadChange) => void;
  subscribe(subscriber: (change: ReadChange) => void) {
    this.subscriber = subscriber;
    return () => undefined;
  }
  sync() {
    return Promise.resolve(this.live);
  }
  emit(change: ReadChange) {
    this.subscriber?.(change);
  }
}

describe('ReadCache', () => {
  let changes: HeardChanges;
  let reads: number;
  const cache = (megabytes = 1) => new ReadCache(changes as unknown as ReadChanges, new MetricsService(), { readCacheBytes: megabytes * 1024 * 1024 });
  const read = (value: unknown, shows?: ReadScope) => async () => {
    reads++;
    return { value, shows };
  };

  beforeEach(() => {
    changes = new HeardChanges();
    reads = 0;
  });

  it('keeps an answer until a change touches it: details by submission, lists by submissions', async () => {
    const c = cache();
    await c.answer('details:1', { submissionId: '1' }, read({ id: 1 }));
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 }));
    await c.answer('list', 'list', read([1, 2]));
    await c.answer('details:1', { submissionId: '1' }, read({ id: 1 }));
    expect(reads).toBe(3);

    changes.emit({ kind: 'details', submissionIds: ['1'] });
    await c.answer('details:1', { submissionId: '1' }, read({ id: 1 }));
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 }));
    await c.answer('list', 'list', read([1, 2]));
    expect(reads).toBe(4);

    changes.emit({ kind: 'submission', submissionIds: ['2'] });
    await c.answer('details:1', { submissionId: '1' }, read({ id: 1 }));
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 }));
    await c.answer('list', 'list', read([1, 2]));
    expect(reads).toBe(6);

    changes.emit({ kind: 'everything' });
    await c.answer('details:1', { submissionId: '1' }, read({ id: 1 }));
    expect(reads).toBe(7);
  });

  it('an update of what rows show drops only the details whose rows page holds one of them', async () => {
    const c = cache();
    const page = (key: string, rows: { first: number; last: number } | null) => c.answer(key, { submissionId: '1' }, read({ key }, { submissionId: '1', rows }));
    const all = () => Promise.all([page('rows 1-100', { first: 1, last: 100 }), page('rows 101-200', { first: 101, last: 200 }), page('no rows', null)]);
    await all();
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 })); // read without a rows page: shows every row
    expect(reads).toBe(4);

    changes.emit({ kind: 'rows', spans: [{ submissionId: '1', first: 150, last: 260 }] });
    await all();
    expect(reads).toBe(5); // only rows 101-200
    changes.emit({ kind: 'rows', spans: [{ submissionId: '1', first: 100, last: 100 }, { submissionId: '3', first: 1, last: 9 }] });
    await all();
    expect(reads).toBe(6); // only rows 1-100
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 }));
    expect(reads).toBe(6);
    changes.emit({ kind: 'rows', spans: [{ submissionId: '2', first: 5000, last: 5000 }] });
    await c.answer('details:2', { submissionId: '2' }, read({ id: 2 }));
    expect(reads).toBe(7);
    // Rows that came or went (or whose problems changed) drop every page, the empty one too.
    changes.emit({ kind: 'details', submissionIds: ['1'] });
    await all();
    expect(reads).toBe(10);
  });

  it('a rows update during a read keeps its answer out, whatever page it turns out to show', async () => {
    const c = cache();
    await c.answer('rows 1-100', { submissionId: '1' }, async () => {
      reads++;
      changes.emit({ kind: 'rows', spans: [{ submissionId: '1', first: 900, last: 900 }] });
      return { value: {}, shows: { submissionId: '1', rows: { first: 1, last: 100 } } };
    });
    await c.answer('rows 1-100', { submissionId: '1' }, read({}, { submissionId: '1', rows: { first: 1, last: 100 } }));
    expect(reads).toBe(2);
  });

  it('does not keep an answer whose read a change overtook', async () => {
    const c = cache();
    await c.answer('details:1', { submissionId: '1' }, async () => {
      reads++;
      changes.emit({ kind: 'details', submissionIds: ['1'] });
      return { value: { old: true } };
    });
    await c.answer('details:1', { submissionId: '1' }, read({ old: false }));
    expect(reads).toBe(2);
  });

  it('lets requests that miss at once share one read, unless a change overtook it', async () => {
    const c = cache();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const slow = async () => {
      reads++;
      await held;
      return { value: { n: reads } };
    };
    const first = c.answer('details:1', { submissionId: '1' }, slow);
    const second = c.answer('details:1', { submissionId: '1' }, slow);
    await new Promise((resolve) => setImmediate(resolve));
    changes.emit({ kind: 'details', submissionIds: ['1'] });
    const third = c.answer('details:1', { submissionId: '1' }, slow);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    await Promise.all([first, second, third]);
    expect(reads).toBe(2);
    expect((await first).body).toBe((await second).body);
  });

  it('reads every time while changes cannot be heard, and keeps nothing', async () => {
    const c = cache();
    changes.live = false;
    await c.answer('list', 'list', read([]));
    await c.answer('list', 'list', read([]));
    changes.live = true;
    await c.answer('list', 'list', read([]));
    expect(reads).toBe(3);
  });

  it('stays within its memory, dropping the least recently used first', async () => {
    const c = cache(1);
    const big = 'x'.repeat(120_000); // ~240 kB in memory each: four fit in 1 MB, not five
    for (const key of ['a', 'b', 'c', 'd']) await c.answer(key, 'list', read(big));
    await c.answer('a', 'list', read(big)); // used again: now the newest
    await c.answer('e', 'list', read(big)); // drops b, the oldest
    expect(reads).toBe(5);
    await c.answer('a', 'list', read(big));
    await c.answer('b', 'list', read(big));
    expect(reads).toBe(6);
  });

  it('answers the JSON and the weak ETag Express would send', () => {
    expect(toJson({ a: 'é' })).toEqual({ body: '{"a":"é"}', etag: expect.stringMatching(/^W\/"a-[A-Za-z0-9+/]{27}"$/) });
  });
});
