/**
 * Issue 8: PROCORE_REVISED_COLUMN set in the environment, all the way through the running app.
 * The view renames its revised column "Revised Estimate" and has no "Revised Budget" column, so
 * the budget reads only if the environment's name reaches the mapping.
 */
import { formatMoney, parseMoney } from '../../src/common/money';
import { resetDatabase } from '../support/database';
import { createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { TestApp } from '../support/test-app';
import { ProcoreStandIn, SAMPLE_USERS } from '../stand-ins/procore';
import { useProcoreApp, waitForIngestion } from './procore-test-kit';

const PROJECT = 1001;

describe('PROCORE_REVISED_COLUMN from the environment', () => {
  const procore = new ProcoreStandIn();
  let t: TestApp;
  let sender: UserWithToken;
  useProcoreApp(procore, { PROCORE_REVISED_COLUMN: 'Revised Estimate' }, (app) => (t = app));

  beforeEach(async () => {
    await resetDatabase();
    procore.reset();
    procore.addUser(SAMPLE_USERS.projectManager);
    procore.addProject({ id: PROJECT, name: 'Renamed columns', project_number: '26-101', withDefaultView: false });
    procore.addBudgetView(PROJECT, {
      id: 2001,
      name: 'Accounting view',
      columns: ['Approved COs', 'Projected Budget', { name: 'Revised Estimate', source: 'Revised Budget' }],
    });
    procore.setBudgetLines(PROJECT, [
      { costCode: '01-100', category: 'L', originalBudget: '45000.00', approvedCos: '5000.25', budgetModifications: '1200.00' },
      { costCode: '03-300', category: 'M', originalBudget: '1000.00', approvedBudgetChanges: '-50.10' },
      { costCode: '03-300', category: 'L', originalBudget: '250.50' },
    ]);
    sender = await createUser(t.em(), { erpPermission: 'standard', name: 'Sender' });
  });

  it('a send reads the revised estimate from the view column the environment names: ready_to_export with the view’s totals', async () => {
    const lines = procore.budgetLines(PROJECT);
    // What the view shows as "Revised Estimate" (the standard "Revised Budget" column, renamed).
    const revised = lines.reduce((sum, line) => sum + parseMoney(procore.columnAmounts(line.id)['Revised Budget']).cents, 0n);
    const original = lines.reduce((sum, line) => sum + parseMoney(line.original_budget_amount).cents, 0n);
    expect(revised).not.toBe(original);

    const res = await api(t.url, sender.token).post('/api/v1/budgets', { procoreProjectId: String(PROJECT) });
    expect(res.status).toBe(202);
    const submission = await waitForIngestion(res.body.id);
    expect({ status: submission.status, error: submission.ingest_error }).toEqual({ status: 'ready_to_export', error: null });
    const details = await api(t.url, sender.token).get(`/api/v1/budgets/${submission.id}`);
    expect(details.body.totals).toEqual({
      originalBudget: formatMoney(original),
      budgetChanges: formatMoney(revised - original),
      revisedEstimate: formatMoney(revised),
    });
  });
});
