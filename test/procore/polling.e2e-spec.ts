import { JobName } from '../../src/queue/queue.contract';
import { Outbox } from '../../src/queue/outbox';
import { sql, resetDatabase } from '../support/database';
import { createSubmission } from '../support/factories';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_PROJECT_ID, seedSampleProject } from '../stand-ins/procore';
import { startProcoreApp, waitForIdle } from './procore-test-kit';

describe('polling sweep (PollProjects)', () => {
  const standIn = new ProcoreStandIn();
  let t: TestApp;

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(async () => {
    await resetDatabase();
    standIn.reset();
    seedSampleProject(standIn, { locked: true });
    standIn.addProject({ id: 1002, name: 'Unlocked', project_number: '26-102' });
    standIn.setBudgetLines(1002, [{ costCode: '01-100', category: 'L', originalBudget: '10.00' }]);
    standIn.addProject({ id: 1005, name: 'Locked, closed', project_number: '26-105', active: false });
    standIn.setBudgetLines(1005, [{ costCode: '01-100', category: 'L', originalBudget: '10.00' }]);
    standIn.setLocked(1005, true);
  });

  async function poll() {
    const work = await t.get(Outbox).enqueue(JobName.PollProjects, { window: `test-${Date.now()}-${Math.random()}` });
    await waitForIdle([JobName.PollProjects]);
    return work;
  }

  describe('PROCORE_PROJECT_IDS empty: every active project', () => {
    beforeAll(async () => {
      t = await startProcoreApp(standIn);
    });
    afterAll(() => t.close());

    it('starts a submission for a locked, changed budget (no sender, no creator), then finds it unchanged', async () => {
      await poll();
      const submissions = await sql(
        `select s.procore_project_id, s.status, s.source, s.sent_by_id, u.email as creator from submission s left join app_user u on u.id = s.created_by_id`,
      );
      expect(submissions).toEqual([
        { procore_project_id: String(SAMPLE_PROJECT_ID), status: 'ready_to_export', source: 'poll', sent_by_id: null, creator: null },
      ]);
      // The inactive project was not read at all.
      expect(standIn.countRequests({ path: '/projects/1005' })).toBe(0);

      standIn.clearLog();
      await poll();
      expect(await sql(`select count(*)::int as count from submission`)).toEqual([{ count: 1 }]);
      expect(standIn.countRequests({ path: '/budget_line_items/' })).toBe(0);
    });

    it('a project with a busy submission costs no Procore request', async () => {
      await createSubmission(t.em(), { status: 'exporting', procoreProjectId: String(SAMPLE_PROJECT_ID) });
      await poll();
      expect(standIn.countRequests({ path: `/projects/${SAMPLE_PROJECT_ID}` })).toBe(0);
      expect(await sql(`select status from submission`)).toEqual([{ status: 'exporting' }]);
    });
  });

  describe('PROCORE_PROJECT_IDS set', () => {
    beforeAll(async () => {
      t = await startProcoreApp(standIn, { PROCORE_PROJECT_IDS: '1005, 1002' });
    });
    afterAll(() => t.close());

    it('checks exactly the configured projects, a failing one does not stop the others', async () => {
      standIn.failNext(10, 403, { path: '/projects/1005/budget' });
      await poll();
      expect(await sql(`select procore_project_id, source from submission`)).toEqual([]);
      expect(standIn.countRequests({ path: `/projects/${SAMPLE_PROJECT_ID}` })).toBe(0);
      expect(standIn.countRequests({ path: '/projects/1002/budget' })).toBe(1);
      standIn.clearFaults();
      await poll();
      expect(await sql(`select procore_project_id, source from submission`)).toEqual([{ procore_project_id: '1005', source: 'poll' }]);
    });
  });
});
