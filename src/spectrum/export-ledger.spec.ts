import { ExportLedger } from './export-ledger';

/** A database whose commits finish only when the test lets them. */
function slowDatabase() {
  const commits: Array<{ rows: number; finish: () => void }> = [];
  const store = {
    recordOutcomes: (batch: unknown[]) => new Promise<void>((resolve) => commits.push({ rows: batch.length, finish: resolve })),
  };
  return { em: store, commits };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('ExportLedger', () => {
  it('lets at most two batches of outcomes wait for their commit: the writers wait beyond that', async () => {
    const { em, commits } = slowDatabase();
    const ledger = new ExportLedger(em, { batchSize: 3, maxDelayMs: 1_000 });
    let recorded = 0;
    const writer = (async () => {
      for (let i = 0; i < 9; i++) {
        await ledger.record({ rowId: String(i), outcome: 'attempted' });
        recorded++;
      }
    })();
    await settle();
    // Batch 1 (3) is committing, batch 2 (3) is full: the writer waits with its 6th outcome recorded.
    expect(commits.map((c) => c.rows)).toEqual([3]);
    expect(ledger.uncommitted).toBe(6);
    expect(recorded).toBe(5);

    commits[0].finish();
    await settle();
    expect(commits.map((c) => c.rows)).toEqual([3, 3]);
    expect(ledger.uncommitted).toBe(6);
    expect(recorded).toBe(8);

    commits[1].finish();
    await settle();
    commits[2].finish();
    await writer;
    const closing = ledger.close();
    await settle();
    expect(ledger.uncommitted).toBe(0);
    await closing;
    expect(ledger.committed).toBe(9);
  });

  it('defaults to waiting at 500 uncommitted outcomes (2 × 250)', async () => {
    const { em, commits } = slowDatabase();
    const ledger = new ExportLedger(em);
    let recorded = 0;
    void (async () => {
      for (let i = 0; i < 2_000; i++) {
        await ledger.record({ rowId: String(i), outcome: 'attempted' });
        recorded++;
      }
    })();
    await settle();
    expect(ledger.uncommitted).toBe(500);
    expect(recorded).toBe(499);
    for (let i = 0; i < 8; i++) {
      commits[i].finish();
      await settle();
    }
    expect(recorded).toBe(2_000);
    await ledger.close();
  });
});
