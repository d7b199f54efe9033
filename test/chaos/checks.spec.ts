import {
  ChaosEvent,
  checkAllSynced,
  checkCap,
  checkEmails,
  checkNoPendingWork,
  checkNoResendAfterCommit,
  checkSpectrumExact,
  classifyResends,
  concurrencyProfile,
  gated,
  LedgerRow,
  NotificationRecord,
  rowKey,
  SpectrumCall,
} from './checks';

const T = 1_800_000_000_000;
const ROW = rowKey('CH-101', '01100', 'L');
const OTHER = rowKey('CH-101', '01100', 'M');

function call(seq: number, at: number, extra: Partial<SpectrumCall> = {}): SpectrumCall {
  return { seq, at, finishedAt: at + 30, service: 'AddPhase', outcome: 'ok', concurrent: 1, row: ROW, ...extra };
}

function ledgerRow(extra: Partial<LedgerRow> = {}): LedgerRow {
  return { submissionId: '1', row: ROW, original: '100.00', revised: '125.50', state: 'written', committedAt: T + 100, ...extra };
}

describe('chaos checks', () => {
  describe('no row re-sent after its success was recorded', () => {
    it('passes when every call for a row came before the ledger committed it', () => {
      const check = checkNoResendAfterCommit([ledgerRow()], [call(1, T), call(2, T + 60)]);
      expect(check.status).toBe('pass');
    });

    it('fails on a call that arrived after the commit, naming the row and the delay', () => {
      const check = checkNoResendAfterCommit([ledgerRow()], [call(1, T), call(7, T + 350)]);
      expect(check.status).toBe('fail');
      expect(check.details).toEqual([`${ROW}: AddPhase #7 arrived 250 ms after the ledger committed it as written`]);
    });

    it('fails when a written row has no commit time to check against', () => {
      expect(checkNoResendAfterCommit([ledgerRow({ committedAt: null })], [call(1, T)]).status).toBe('fail');
    });
  });

  describe('re-sends before the commit', () => {
    const kill: ChaosEvent = { at: T + 200, kind: 'kill', target: 'worker-2' };

    it('puts a second success down to the crash that followed the first', () => {
      const summary = classifyResends([call(1, T), call(2, T + 40_000), call(3, T, { row: OTHER })], [kill]);
      expect(summary).toMatchObject({ rows: 1, byCause: { kill: 1 } });
    });

    it('calls a second success with no crash near the first unexplained', () => {
      const summary = classifyResends([call(1, T), call(2, T + 40_000)], [{ ...kill, at: T + 60_000 }]);
      expect(summary.byCause).toEqual({ unexplained: 1 });
    });

    it('ignores faulted attempts', () => {
      expect(classifyResends([call(1, T, { outcome: 'fault' }), call(2, T + 100)], []).rows).toBe(0);
    });
  });

  describe('the concurrency cap', () => {
    it('passes at the cap', () => {
      expect(checkCap([call(1, T, { concurrent: 4 })], 4).status).toBe('pass');
    });

    it('fails above the cap outside any exempt window', () => {
      const check = checkCap([call(1, T, { concurrent: 5 })], 4);
      expect(check.status).toBe('fail');
      expect(check.summary).toContain('peak 5');
    });

    it('reports excess inside the window of a feature not landed yet as pending, and fails it once landed', () => {
      const window = { name: 'Redis restart', from: T - 10, to: T + 10, feature: 'permits re-registered', landed: false };
      expect(checkCap([call(1, T, { concurrent: 6 })], 4, [window]).status).toBe('pending');
      expect(checkCap([call(1, T, { concurrent: 6 })], 4, [{ ...window, landed: true }]).status).toBe('fail');
      expect(checkCap([call(1, T, { concurrent: 6 }), call(2, T + 5_000, { concurrent: 5 })], 4, [window]).status).toBe('fail');
    });

    it('profiles the peak per second', () => {
      const profile = concurrencyProfile([call(1, T, { concurrent: 2 }), call(2, T + 1_500, { concurrent: 3 }), call(3, T + 1_900, { concurrent: 1 })], T);
      expect(profile).toEqual({ peak: 3, peakAt: T + 1_500, perSecond: [2, 3] });
    });
  });

  describe('Spectrum exact to the cent', () => {
    it('passes when Spectrum holds exactly the ledger rows', () => {
      expect(checkSpectrumExact([ledgerRow()], [{ row: ROW, original: 100_00n, current: 125_50n }]).status).toBe('pass');
    });

    it('fails on a cent of difference, a missing row and a row no budget has', () => {
      const check = checkSpectrumExact(
        [ledgerRow(), ledgerRow({ row: OTHER })],
        [
          { row: ROW, original: 100_00n, current: 125_49n },
          { row: rowKey('CH-101', '09900', 'S'), original: 1n, current: 1n },
        ],
      );
      expect(check.status).toBe('fail');
      expect(check.details).toHaveLength(3);
      expect(check.details[0]).toContain('current 125.49');
    });
  });

  describe('emails', () => {
    const sent = (id: string, committedAt = T + 1_000): NotificationRecord => ({ id, kind: 'resent', recipient: `a${id}@x`, state: 'sent', committedAt });
    const copy = (id: string, receivedAt: number) => ({ notificationId: id, receivedAt, subject: 'Budget sent again' });

    it('passes when each notification arrived once', () => {
      const { check, summary } = checkEmails([sent('1'), sent('2')], [copy('1', T), copy('2', T)], []);
      expect(check.status).toBe('pass');
      expect(summary).toMatchObject({ lost: 0, repeatsInCrashWindow: 0 });
    });

    it('fails on an email recorded sent that never arrived, and on one still pending', () => {
      const { check, summary } = checkEmails([sent('1'), { ...sent('2'), state: 'pending' }], [], []);
      expect(check.status).toBe('fail');
      expect(summary.lost).toBe(2);
    });

    it('counts a repeat followed by a crash before the commit as the crash window', () => {
      const events: ChaosEvent[] = [{ at: T + 50, kind: 'kill', target: 'worker-1' }];
      const { check, summary } = checkEmails([sent('1', T + 9_000)], [copy('1', T), copy('1', T + 8_000)], events);
      expect(check.status).toBe('pass');
      expect(summary.repeatsInCrashWindow).toBe(1);
    });

    it('fails on a repeat without a crash, and on a copy after the ledger recorded it sent', () => {
      expect(checkEmails([sent('1', T + 9_000)], [copy('1', T), copy('1', T + 8_000)], []).check.status).toBe('fail');
      const late = checkEmails([sent('1', T + 1_000)], [copy('1', T), copy('1', T + 8_000)], [{ at: T + 50, kind: 'kill' }]);
      expect(late.check.status).toBe('fail');
      expect(late.check.details[0]).toContain('after the ledger recorded it sent');
    });

    it('fails on an email without a ledger row', () => {
      expect(checkEmails([sent('1')], [copy('1', T), { notificationId: null, receivedAt: T, subject: 'stray' }], []).check.status).toBe('fail');
    });

    it('counts a notification closed as no longer applicable as withdrawn, not lost', () => {
      const withdrawn: NotificationRecord = { ...sent('2'), kind: 'daily_summary', state: 'failed', error: 'not sent: no budget awaits acceptance any more' };
      const { check, summary } = checkEmails([sent('1'), withdrawn], [copy('1', T)], []);
      expect(check.status).toBe('pass');
      expect(summary).toMatchObject({ withdrawn: 1, lost: 0 });
      expect(checkEmails([sent('1'), { ...withdrawn, error: 'gave up after 72 h: 421' }], [copy('1', T)], []).check.status).toBe('fail');
    });
  });

  it('every budget synced, and no pending work left', () => {
    expect(checkAllSynced([{ id: '1', project: 'P', status: 'synced' }]).status).toBe('pass');
    expect(checkAllSynced([{ id: '1', project: 'P', status: 'exporting' }]).status).toBe('fail');
    expect(checkAllSynced([]).status).toBe('fail');
    expect(checkNoPendingWork({ pendingWork: [], pendingNotifications: 0 }).status).toBe('pass');
    expect(checkNoPendingWork({ pendingWork: ['#3 export-submission'], pendingNotifications: 0 }).status).toBe('fail');
    expect(checkNoPendingWork({ pendingWork: [], pendingNotifications: 1 }).status).toBe('fail');
  });

  it('gated: a failing check of a feature not landed is pending; landed, it fails', () => {
    const failing = { name: 'x', status: 'fail' as const, summary: 's', details: [] };
    expect(gated(failing, false, 'metrics').status).toBe('pending');
    expect(gated(failing, true, 'metrics').status).toBe('fail');
    expect(gated({ ...failing, status: 'pass' }, false, 'metrics').status).toBe('pass');
  });
});
