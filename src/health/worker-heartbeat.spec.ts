import { ModuleRef } from '@nestjs/core';
import type { Queue } from 'bull';
import { runtimeOptions } from '../config/runtime-options';
import { QueueName } from '../queue/queue.contract';
import { HEARTBEAT_STALE_MS, WorkerHeartbeat } from './worker-heartbeat';

function fakeQueue(state: Record<string, unknown>): Queue {
  return { handlers: { job: () => undefined }, bclient: { status: 'ready' }, ...state } as unknown as Queue;
}

function heartbeat(queues: Array<[QueueName, Queue]>, runScheduler = false, cronJobs = new Map<string, { isActive: boolean }>()) {
  const moduleRef = { get: () => ({ getCronJobs: () => cronJobs }) } as unknown as ModuleRef;
  return new WorkerHeartbeat(runtimeOptions({ runWorkers: true, runScheduler }), new Map(queues), moduleRef);
}

describe('WorkerHeartbeat', () => {
  afterEach(() => jest.restoreAllMocks());

  it('is up while its queues take jobs and its schedules run', () => {
    const beat = heartbeat([['export', fakeQueue({})], ['maintenance', fakeQueue({ handlers: {} })]], true, new Map([['poll', { isActive: true }]]));
    beat.beat();
    expect(beat.status()).toMatchObject({ ok: true, queues: 1, schedules: 1 });
  });

  it('is down naming a paused, closing or disconnected queue, and a stopped schedule', () => {
    const beat = heartbeat(
      [['export', fakeQueue({ paused: Promise.resolve() })], ['procore', fakeQueue({ closing: Promise.resolve() })], ['ingestion', fakeQueue({ bclient: { status: 'reconnecting' } })]],
    );
    beat.beat();
    expect(beat.status().problem).toBe('not taking jobs from export (paused), procore (closing), ingestion (waiting for Redis: reconnecting)');
    const schedules = heartbeat([['export', fakeQueue({})]], true, new Map([['poll', { isActive: false }]]));
    schedules.beat();
    expect(schedules.status()).toMatchObject({ ok: false, problem: 'schedules stopped: poll' });
  });

  it('is down when its last beat is too old, and from the start of shutdown', () => {
    const beat = heartbeat([['export', fakeQueue({})]]);
    const start = Date.now();
    jest.spyOn(Date, 'now').mockReturnValue(start);
    beat.beat();
    expect(beat.status().ok).toBe(true);
    jest.spyOn(Date, 'now').mockReturnValue(start + HEARTBEAT_STALE_MS + 1_000);
    expect(beat.status()).toMatchObject({ ok: false, problem: expect.stringContaining('no heartbeat for 31 s') });
    beat.beat();
    expect(beat.status().ok).toBe(true);
    beat.onModuleDestroy();
    expect(beat.status()).toMatchObject({ ok: false, problem: 'shutting down: no longer taking jobs' });
  });

  it('is down when the process takes jobs from no queue', () => {
    const beat = heartbeat([['export', fakeQueue({ handlers: {} })]]);
    beat.beat();
    expect(beat.status()).toMatchObject({ ok: false, problem: 'takes jobs from no queue' });
  });
});
