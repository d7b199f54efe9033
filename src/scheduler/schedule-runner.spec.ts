import { Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { testConfig } from '../../test/support/test-env';
import { AppConfig } from '../config/app-config';
import { RecordedWork } from '../queue/pending-work.repository';
import { Clock } from './clock';
import { ScheduleRunner } from './schedule-runner.service';
import { SchedulerService } from './scheduler.service';
import { ScheduledWork, ScheduleName } from './schedules';

/**
 * The real cron jobs of ScheduleRunner, driven by jest's fake clock: when they fire and what each
 * tick enqueues. Only the final write to PostgreSQL is left out (the integration suite covers it).
 */
class RecordingScheduler extends SchedulerService {
  readonly fired: Array<{ name: ScheduleName; at: string; work: ScheduledWork }> = [];

  constructor(config: AppConfig) {
    super(null as never, config);
  }

  override async enqueue(name: ScheduleName, at: Date): Promise<RecordedWork> {
    this.fired.push({ name, at: at.toISOString(), work: this.schedule(name).workAt(at) });
    return {} as RecordedWork;
  }

  firedBy(name: ScheduleName) {
    return this.fired.filter((fire) => fire.name === name).map(({ at, work }) => ({ at, payload: work.payload, dedupeKey: work.dedupeKey }));
  }
}

describe('ScheduleRunner with DAILY_SUMMARY_TZ=America/Chicago', () => {
  let registry: SchedulerRegistry;
  let scheduler: RecordingScheduler;

  const start = async (now: string, env: Record<string, string> = {}) => {
    jest.useFakeTimers({ now: new Date(now), doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    registry = new SchedulerRegistry();
    scheduler = new RecordingScheduler(testConfig({ DAILY_SUMMARY_TZ: 'America/Chicago', DAILY_SUMMARY_CRON: '0 7 * * *', ...env }));
    new ScheduleRunner(registry, scheduler, new Clock()).onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(0);
  };

  beforeAll(() => Logger.overrideLogger(false));
  afterEach(() => {
    registry?.getCronJobs().forEach((job) => job.stop());
    jest.useRealTimers();
  });

  it('fires the daily summary at 13:00Z in winter (07:00 CST) for that local day, not at 12:00Z', async () => {
    await start('2025-01-15T11:59:00Z');
    await jest.advanceTimersByTimeAsync(62 * 60_000);
    expect(scheduler.firedBy('daily-summary')).toEqual([
      { at: '2025-01-15T13:00:00.000Z', payload: { day: '2025-01-15' }, dedupeKey: 'daily-summary:2025-01-15' },
    ]);
  });

  it('fires it at 12:00Z in summer (07:00 CDT)', async () => {
    await start('2025-07-15T11:59:00Z');
    await jest.advanceTimersByTimeAsync(2 * 60_000);
    expect(scheduler.firedBy('daily-summary')).toEqual([
      { at: '2025-07-15T12:00:00.000Z', payload: { day: '2025-07-15' }, dedupeKey: 'daily-summary:2025-07-15' },
    ]);
  });

  it('follows the spring change: armed at 00:59 CST, fires at 07:00 CDT = 12:00Z', async () => {
    // 2025-03-09: 02:00 CST jumps to 03:00 CDT (08:00Z).
    await start('2025-03-09T06:59:00Z');
    await jest.advanceTimersByTimeAsync(5 * 3_600_000 + 2 * 60_000);
    expect(scheduler.firedBy('daily-summary').map(({ at, payload }) => [at, payload])).toEqual([
      ['2025-03-09T12:00:00.000Z', { day: '2025-03-09' }],
    ]);
  });

  it('catches up on start when today’s tick has passed, not before it', async () => {
    await start('2025-01-15T15:30:00Z'); // 09:30 CST
    expect(scheduler.firedBy('daily-summary')).toEqual([
      { at: '2025-01-15T15:30:00.000Z', payload: { day: '2025-01-15' }, dedupeKey: 'daily-summary:2025-01-15' },
    ]);
    registry.getCronJobs().forEach((job) => job.stop());
    await start('2025-01-15T12:30:00Z'); // 06:30 CST: yesterday's summary is not caught up
    expect(scheduler.firedBy('daily-summary')).toEqual([]);
  });

  it('enqueues every schedule with a key of its window: poll, reconcile, stuck-work sweep, user sync', async () => {
    await start('2025-01-15T07:59:30Z', { POLL_CRON: '*/15 * * * *', RECONCILE_CRON: '*/30 * * * *', USER_SYNC_CRON: '0 2 * * *' });
    await jest.advanceTimersByTimeAsync(16 * 60_000); // 01:59:30 → 02:15:30 CST
    expect(scheduler.firedBy('sync-users')).toEqual([
      { at: '2025-01-15T08:00:00.000Z', payload: { window: '2025-01-15T02:00:00-06:00' }, dedupeKey: 'sync-users:2025-01-15T02:00:00-06:00' },
    ]);
    expect(scheduler.firedBy('poll-projects').map((f) => f.dedupeKey)).toEqual([
      'poll-projects:2025-01-15T02:00:00-06:00',
      'poll-projects:2025-01-15T02:15:00-06:00',
    ]);
    expect(scheduler.firedBy('reconcile-sweep').map((f) => f.payload)).toEqual([{ window: '2025-01-15T02:00:00-06:00' }]);
    const sweeps = scheduler.firedBy('sweep-pending-work');
    expect(sweeps).toHaveLength(16);
    expect(sweeps[0]).toEqual({
      at: '2025-01-15T08:00:00.000Z',
      payload: { window: '2025-01-15T02:00:00-06:00' },
      dedupeKey: 'sweep-pending-work:2025-01-15T02:00:00-06:00',
    });
    expect(new Set(sweeps.map((s) => s.dedupeKey)).size).toBe(16);
  });
});
