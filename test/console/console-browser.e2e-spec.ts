import { createServer } from 'node:net';
import { MikroORM } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import type { Browser, Page } from 'playwright-core';
import { INestApplication } from '@nestjs/common';
import { createHttpApp } from '../../src/bootstrap';
import { ReconciliationService } from '../../src/reconciliation/reconciliation.service';
import { FAST_PROCORE } from '../procore/procore-test-kit';
import { resetDatabase, resetRedis, sql } from '../support/database';
import { createSubmission, createUser, UserWithToken } from '../support/factories';
import { api } from '../support/http';
import { runId, testConfig } from '../support/test-env';
import { waitFor } from '../support/wait';
import { ProcoreStandIn, SAMPLE_PROJECT, SAMPLE_USERS, seedSampleProject } from '../stand-ins/procore';
import { SmtpStandIn } from '../stand-ins/smtp';
import { seedSpectrumForSampleProject, SpectrumStandIn } from '../stand-ins/spectrum';
import { launchChromium, newPage, screenshot, TABLET } from './browser';

/**
 * The approver console in a real Chromium against the real connector (API and workers), PostgreSQL,
 * Redis and the stand-ins of Procore, Spectrum and SMTP. One browser for the suite; a context (a
 * separate cookie jar) per person.
 */
describe('approver console in Chromium', () => {
  let browser: Browser;
  let app: INestApplication;
  let url: string;
  const procore = new ProcoreStandIn();
  let spectrum: SpectrumStandIn;
  const smtp = new SmtpStandIn();
  let admin: UserWithToken; // Alex: admin, can push to accounting
  let approver: UserWithToken; // Robin: standard, can push to accounting
  let reader: UserWithToken; // Riley: read_only
  let pm: UserWithToken; // Dana, the project manager who sends budgets
  let marcus: UserWithToken; // the project accountant, linked to his Procore user
  let sampleId: string;
  let harborId: string;
  let problemId: string;

  beforeAll(async () => {
    await resetDatabase();
    await resetRedis();
    await procore.start();
    seedSampleProject(procore, { locked: false });
    spectrum = await SpectrumStandIn.start({ authorizationId: 'API', companyCode: 'ABC' });
    seedSpectrumForSampleProject(spectrum);
    await smtp.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const config = testConfig({
      APP_ROLE: 'all',
      PUBLIC_URL: url,
      ...procore.environment(),
      SPECTRUM_URL: spectrum.url,
      SMTP_URL: smtp.url,
      PROCORE_PROJECT_IDS: '',
      PROCORE_OAUTH_CLIENT_ID: 'console-app',
      PROCORE_OAUTH_CLIENT_SECRET: 'console-app-secret',
    });
    procore.oauth.registerApp({ clientId: 'console-app', clientSecret: 'console-app-secret', redirectUri: `${url}/console/auth/procore/callback` });
    app = await createHttpApp(config, { runWorkers: true, runScheduler: false, backoffScale: 0.001, queuePrefix: `test-${runId()}`, logger: ['error'], timings: FAST_PROCORE });
    await app.listen(port, '127.0.0.1');
    const em = () => app.get(MikroORM).em.fork() as EntityManager;
    admin = await createUser(em(), { erpPermission: 'admin', canPushToAccounting: true, name: 'Alex Approver', email: 'alex@summit-builders.example' });
    approver = await createUser(em(), { erpPermission: 'standard', canPushToAccounting: true, name: 'Robin Reyes', email: 'robin@summit-builders.example' });
    reader = await createUser(em(), { erpPermission: 'read_only', name: 'Riley Reader', email: 'riley@summit-builders.example' });
    pm = await createUser(em(), { erpPermission: 'standard', name: SAMPLE_USERS.projectManager.name, email: SAMPLE_USERS.projectManager.email });
    // Marcus, the project accountant, as the Procore user sync links him (by his Procore user id).
    marcus = await createUser(em(), { erpPermission: 'standard', canPushToAccounting: true, name: SAMPLE_USERS.accountant.name, email: SAMPLE_USERS.accountant.email });
    await sql(`update app_user set procore_user_id = $1 where id = $2`, [SAMPLE_USERS.accountant.id, marcus.user.id]);

    // Two budgets sent by the PM through the API, as Procore's "Send to ERP" does.
    const harbor = procore.addProject({ id: 1002, name: 'Harbor Logistics Warehouse', project_number: '25-044', active: true });
    procore.setBudgetLines(harbor.id, [
      { costCode: '01-100', costCodeName: 'General Conditions', category: 'L', originalBudget: '182400.00' },
      { costCode: '03-300', costCodeName: 'Cast-in-Place Concrete', category: 'M', originalBudget: '264150.00' },
      { costCode: '13-340', costCodeName: 'Metal Building Systems', category: 'S', originalBudget: '1120000.00' },
    ]);
    harborId = await send(harbor.id);
    sampleId = await send(SAMPLE_PROJECT.id);
    // And one with problems, which cannot be accepted.
    const problem = await createSubmission(em(), {
      lines: [
        { costCode: '02-200', category: 'Equipment', phase: null, costType: null, original: 1250000n, description: 'Excavators', problems: ['Line 02-200 Equipment: category "Equipment" maps to no Spectrum cost type'] },
        { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 9876543n, description: 'Cast-in-Place Concrete' },
      ],
    });
    problemId = problem.id;
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await Promise.allSettled([procore.stop(), spectrum?.stop(), smtp.stop()]);
  });

  async function send(projectId: number): Promise<string> {
    const sent = await api(url, pm.token).post('/api/v1/budgets', { procoreProjectId: projectId });
    expect(sent.status).toBe(202);
    await waitFor(async () => (await sql(`select status from submission where id = $1`, [sent.body.id]))[0]?.status === 'ready_to_export', `budget of project ${projectId} ready`);
    return String(sent.body.id);
  }

  async function signIn(page: Page, who: UserWithToken, path = '/console'): Promise<void> {
    await page.goto(`${url}${path}`);
    await page.waitForURL(/\/console\/sign-in/);
    await page.getByLabel('API token').fill(who.token);
    await page.getByRole('button', { name: 'Sign in with a token' }).click();
    await page.waitForURL((u) => !u.pathname.startsWith('/console/sign-in'));
  }

  it('signs in with an API token and shows the Ready to Export list, newest first, with counts', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${url}/`);
    await page.waitForURL(/\/console\/sign-in/);
    await expect(page.getByRole('heading', { name: 'Sign in' }).isVisible()).resolves.toBe(true);
    await screenshot(page, 'console-sign-in', false);
    await page.getByLabel('API token').fill(approver.token);
    await page.getByRole('button', { name: 'Sign in with a token' }).click();
    await page.waitForURL(/\/console\/budgets\?status=ready_to_export/);
    const filters = await page.locator('nav.filters a').allInnerTexts();
    expect(filters.map((f) => f.replace(/\s+/g, ' ').trim())).toEqual(['Ready to Export 3', 'Failed to Export 0', 'Out of Sync 0', 'Exporting 0', 'Synced 0', 'Rejected 0', 'All 3']);
    const projects = await page.locator('#budgets tbody tr td:first-child a').allInnerTexts();
    expect(projects.slice(0, 2)).toEqual([expect.stringMatching(/^Test Project/), SAMPLE_PROJECT.name]);
    // Money right-aligned with separators.
    const amount = page.locator('#budgets tbody tr').nth(1).locator('td.num').last();
    await expect(amount.innerText()).resolves.toMatch(/^\d{1,3}(,\d{3})+\.\d{2}$/);
    await expect(amount.evaluate((el) => (globalThis as any).getComputedStyle(el).textAlign)).resolves.toBe('right');
    await screenshot(page, 'console-budgets');
    await context.close();
  });

  it('signs in with Procore: the linked Procore user lands on the page they asked for', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${url}/console/budgets?status=all`);
    await page.waitForURL(/\/console\/sign-in/);
    procore.oauth.signInAs(SAMPLE_USERS.accountant.id);
    await page.getByRole('link', { name: 'Sign in with Procore' }).click();
    await page.waitForURL(`${url}/console/budgets?status=all`);
    await expect(page.locator('.who-name').innerText()).resolves.toContain(SAMPLE_USERS.accountant.name);
    await expect(page.locator('nav.filters a[aria-current]').innerText()).resolves.toMatch(/^All/);
    await context.close();
  });

  it('a sign-in link carrying a token fills the form (the demo\'s one-click sign-in), and never sends it by itself', async () => {
    const { context, page } = await newPage(browser);
    await page.goto(`${url}/console/sign-in#token=${admin.token}`);
    await expect(page.getByLabel('API token').inputValue()).resolves.toBe(admin.token);
    expect(new URL(page.url()).hash).toBe('');
    await expect(page.evaluate(() => (globalThis as any).document.activeElement.textContent)).resolves.toBe('Sign in with a token');
    const [{ count }] = await sql<{ count: string }>(`select count(*) from console_session where user_id = $1`, [admin.user.id]);
    expect(count).toBe('0');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/console\/budgets/);
    await context.close();
  });

  it('opens a budget: problems in red and no Accept; the preview against Spectrum', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, approver, `/console/budgets/${problemId}`);
    const problems = page.locator('section.problems');
    await expect(problems.innerText()).resolves.toContain('maps to no Spectrum cost type');
    await expect(problems.evaluate((el) => (globalThis as any).getComputedStyle(el).color)).resolves.toBe('rgb(180, 35, 24)');
    await expect(page.getByRole('button', { name: 'Accept…' }).count()).resolves.toBe(0);
    await expect(page.getByRole('button', { name: 'Reject…' }).count()).resolves.toBe(1);

    await page.goto(`${url}/console/budgets/${sampleId}`);
    await page.locator('#preview .chips').waitFor();
    const chips = await page.locator('#preview .chips li').allInnerTexts();
    expect(chips.join(' ')).toMatch(/\d+ new/);
    await expect(page.locator('#preview table tbody tr').count()).resolves.toBeGreaterThan(0);
    await screenshot(page, 'console-budget', false);
    await page.locator('#lines').scrollIntoViewIfNeeded();
    await screenshot(page, 'console-budget-lines', false);
    await context.close();
  });

  it('two approvers accept at once: one wins, the other sees who did and when; the page follows the export to synced', async () => {
    const a = await newPage(browser);
    const b = await newPage(browser);
    await signIn(a.page, admin, `/console/budgets/${sampleId}`);
    await signIn(b.page, approver, `/console/budgets/${sampleId}`);
    // Keyboard: the confirmation opens with Enter, takes the focus, and Escape closes it.
    await a.page.getByRole('button', { name: 'Accept…' }).focus();
    await a.page.keyboard.press('Enter');
    await expect(a.page.evaluate(() => (globalThis as any).document.activeElement.closest('dialog')?.id ?? null)).resolves.toBe('accept-dialog');
    await a.page.keyboard.press('Escape');
    await expect(a.page.locator('#accept-dialog').isVisible()).resolves.toBe(false);
    for (const { page } of [a, b]) {
      await page.getByRole('button', { name: 'Accept…' }).click();
      const dialog = page.locator('#accept-dialog');
      await expect(dialog.locator('[data-confirm=job]').innerText()).resolves.toContain('26-101');
      await expect(dialog.locator('[data-confirm=total]').innerText()).resolves.toMatch(/^\d{1,3}(,\d{3})+\.\d{2}$/);
    }
    await screenshot(a.page, 'console-accept-dialog', false);
    await Promise.all([a, b].map(({ page }) => page.locator('#accept-dialog').getByRole('button', { name: 'Accept and export' }).click()));
    await Promise.all([a, b].map(({ page }) => page.locator('.flash').waitFor()));
    const flashes = await Promise.all([a, b].map(({ page }) => page.locator('.flash').innerText()));
    const winner = flashes.findIndex((text) => text.startsWith('Accepted'));
    expect(winner).toBeGreaterThanOrEqual(0);
    const loser = flashes[1 - winner];
    const winnerName = winner === 0 ? 'Alex Approver' : 'Robin Reyes';
    expect(loser).toMatch(new RegExp(`^${winnerName} accepted this budget first, at \\w{3}, \\w{3} \\d+, \\d{4}, \\d+:\\d{2} [AP]M`));
    expect(loser).toContain('Nothing was changed by your request');

    // The winner's page follows the export and reconciliation without a reload.
    const page = [a, b][winner].page;
    await page.evaluate(() => ((globalThis as unknown as { stayed: boolean }).stayed = true));
    await page.locator('.budget-head .status-synced').waitFor({ timeout: 60_000 });
    await expect(page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).resolves.toBe(true);
    await expect(page.locator('#reconciliation .outcome').innerText()).resolves.toBe('In sync');
    await screenshot(page, 'console-budget-synced', false);
    await page.locator('#reconciliation').scrollIntoViewIfNeeded();
    await screenshot(page, 'console-reconciliation', false);
    await a.context.close();
    await b.context.close();
  });

  it('shows live progress while exporting: rows written of total, failures so far', async () => {
    // Spectrum answers slowly, so the page sees the export under way.
    const em = app.get(MikroORM).em.fork() as EntityManager;
    const submission = await createSubmission(em, {
      lines: Array.from({ length: 40 }, (_, i) => ({ costCode: `09-${100 + i}`, category: 'Labor', phase: `09${100 + i}`, costType: 'L', original: 100000n + BigInt(i) })),
    });
    spectrum.configure({ latencyMs: 300 });
    const { context, page } = await newPage(browser);
    await signIn(page, approver, `/console/budgets/${submission.id}`);
    await page.getByRole('button', { name: 'Accept…' }).click();
    await page.locator('#accept-dialog').getByRole('button', { name: 'Accept and export' }).click();
    await page.locator('#progress[data-follow]').waitFor();
    await waitFor(async () => /^[1-9]\d* of 40 rows written/.test(await page.locator('[data-progress=detail]').innerText()), 'rows written to show');
    await screenshot(page, 'console-exporting', false);
    spectrum.configure({ latencyMs: 0 });
    await page.locator('.budget-head .status-failed_to_export, .budget-head .status-synced, .budget-head .status-out_of_sync').waitFor({ timeout: 60_000 });
    await context.close();
  });

  it('follows a reconciliation too: a page open while the budget awaits it reaches synced without a reload', async () => {
    // An exported budget of its own job, whose rows Spectrum holds as written; its reconciliation runs once the page is open.
    const em = app.get(MikroORM).em.fork() as EntityManager;
    spectrum.addJob({ jobNumber: '26-377', description: 'Reconciled while watched', statusCode: 'A' });
    const submission = await createSubmission(em, {
      status: 'exported',
      job: '26-377',
      lines: [
        { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 1250_00n, changes: 25_50n, description: 'General Conditions' },
        { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 98765_43n, description: 'Cast-in-Place Concrete' },
      ],
    });
    await sql(`update submission_row set export_state = 'written', written_at = now() where submission_id = $1`, [submission.id]);
    spectrum.setPhase({ jobNumber: '26-377', phaseCode: '01100', costType: 'L', description: 'General Conditions', priceMethodCode: 'J', originalEstCost: '1250.00', currentEstCost: '1275.50' });
    spectrum.setPhase({ jobNumber: '26-377', phaseCode: '03300', costType: 'M', description: 'Cast-in-Place Concrete', priceMethodCode: 'J', originalEstCost: '98765.43', currentEstCost: '98765.43' });

    const { context, page } = await newPage(browser);
    await signIn(page, reader, `/console/budgets/${submission.id}`);
    await page.locator('#progress[data-follow]').waitFor();
    await expect(page.locator('[data-progress=label]').innerText()).resolves.toBe('Exported, awaiting reconciliation');
    await expect(page.locator('#reconciliation .outcome').count()).resolves.toBe(0);
    await page.evaluate(() => ((globalThis as unknown as { stayed: boolean }).stayed = true));
    await expect(app.get(ReconciliationService).reconcile(submission.id)).resolves.toMatchObject({ status: 'synced' });
    await page.locator('.budget-head .status-synced').waitFor({ timeout: 30_000 });
    await expect(page.evaluate(() => (globalThis as unknown as { stayed?: boolean }).stayed)).resolves.toBe(true);
    await expect(page.locator('#reconciliation .outcome').innerText()).resolves.toBe('In sync');
    await expect(page.locator('#progress[data-follow]').count()).resolves.toBe(0);
    await context.close();
  });

  it('reject: an empty reason is refused, a reason rejects; the rejection email links to the budget after sign-in', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, approver, `/console/budgets/${harborId}`);
    // Remap (the mapping in force, from the snapshot) is offered while the budget awaits acceptance.
    await page.getByRole('button', { name: 'Remap…' }).click();
    await page.locator('#remap-dialog').getByRole('button', { name: 'Remap' }).click();
    await expect(page.locator('.flash.notice').innerText()).resolves.toBe('Mapped again with the mapping in force: 3 Spectrum row(s), 0 problem(s).');
    await expect(page.locator('#history').innerText()).resolves.toContain('Remapped');
    await page.getByRole('button', { name: 'Reject…' }).click();
    const dialog = page.locator('#reject-dialog');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    // The browser refuses the empty field …
    await expect(dialog.locator('textarea:invalid').count()).resolves.toBe(1);
    await expect(dialog.isVisible()).resolves.toBe(true);
    // … and the server refuses a blank one (the API's rule).
    await dialog.getByLabel('Reason (required)').fill('   ');
    await dialog.getByRole('button', { name: 'Reject' }).click();
    await expect(page.locator('.flash.error').innerText()).resolves.toContain('reason is required');
    await expect((await sql(`select status from submission where id = $1`, [harborId]))[0].status).toBe('ready_to_export');

    const reason = 'Cast-in-place concrete (03-300 Material) is entered twice — remove the duplicate & send again.';
    await page.getByRole('button', { name: 'Reject…' }).click();
    await page.locator('#reject-dialog').getByLabel('Reason (required)').fill(reason);
    await page.locator('#reject-dialog').getByRole('button', { name: 'Reject' }).click();
    await page.locator('.budget-head .status-rejected').waitFor();
    await expect(page.locator('q.reason').innerText()).resolves.toBe(reason);
    await screenshot(page, 'console-rejected', false);
    await context.close();

    await waitFor(async () => smtp.messages.some((m) => m.subject.startsWith('Budget rejected')), 'the rejection email');
    const email = smtp.messages.find((m) => m.subject.startsWith('Budget rejected'))!;
    expect(email.to).toEqual([SAMPLE_USERS.projectManager.email]);
    const link = /href="([^"]+\/console\/budgets\/\d+)"/.exec(email.html!)![1];
    expect(link).toBe(`${url}/console/budgets/${harborId}`);
    const fresh = await newPage(browser);
    await fresh.page.goto(link);
    await fresh.page.waitForURL(/\/console\/sign-in\?next=/);
    await fresh.page.getByLabel('API token').fill(pm.token);
    await fresh.page.getByRole('button', { name: 'Sign in with a token' }).click();
    await fresh.page.waitForURL(`${url}/console/budgets/${harborId}`);
    await expect(fresh.page.locator('q.reason').innerText()).resolves.toBe(reason);
    await fresh.context.close();
  });

  it('a read_only user sees no action', async () => {
    const { context, page } = await newPage(browser, TABLET);
    await signIn(page, reader, `/console/budgets/${problemId}`);
    await expect(page.locator('.actions').count()).resolves.toBe(0);
    await expect(page.locator('[data-dialog]').count()).resolves.toBe(0);
    await expect(page.locator('dialog').count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Users' }).count()).resolves.toBe(0);
    // Tablet width: the page does not scroll sideways (wide tables scroll inside their own box).
    const overflow = await page.evaluate(() => {
      const root = (globalThis as any).document.documentElement;
      return { scrollWidth: root.scrollWidth, clientWidth: root.clientWidth };
    });
    expect(overflow.scrollWidth).toBeLessThanOrEqual(overflow.clientWidth);
    await screenshot(page, 'console-budget-tablet-read-only');
    await context.close();
  });

  it('a state-changing request without the CSRF token is refused', async () => {
    const { context, page } = await newPage(browser);
    await signIn(page, admin, `/console/budgets/${problemId}`);
    const status = await page.evaluate(async (id) => {
      const response = await (globalThis as any).fetch(`/console/budgets/${id}/reject`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'reason=forged',
      });
      return response.status;
    }, problemId);
    expect(status).toBe(403);
    await expect((await sql(`select status from submission where id = $1`, [problemId]))[0].status).toBe('ready_to_export');
    await context.close();
  });

  it('an expired or a deactivated user\'s session is sent to sign-in', async () => {
    const expired = await newPage(browser);
    await signIn(expired.page, reader, '/console/budgets');
    await sql(`update console_session set expires_at = now() - interval '1 second' where user_id = $1`, [reader.user.id]);
    await expired.page.reload();
    await expired.page.waitForURL(/\/console\/sign-in\?.*reason=ended/);
    await expect(expired.page.locator('.flash').innerText()).resolves.toContain('Your session has ended');
    await expired.context.close();

    const deactivated = await newPage(browser);
    await signIn(deactivated.page, approver, '/console/budgets');
    const adminPage = await newPage(browser);
    await signIn(adminPage.page, admin, '/console/users');
    const row = adminPage.page.locator(`#user-${approver.user.id}`);
    await row.getByLabel('Robin Reyes is active').uncheck();
    await row.getByRole('button', { name: 'Save' }).click();
    await expect(adminPage.page.locator('.flash').innerText()).resolves.toBe('Saved Robin Reyes.');
    // Tokens: issued (shown once), listed by prefix, revoked.
    const tokens = adminPage.page.locator(`#user-${reader.user.id} + tr.tokens-row`);
    await tokens.locator('summary').click();
    await tokens.getByLabel('Label').fill('month-end laptop');
    await tokens.getByLabel('Expires after (days)').fill('30');
    await tokens.getByRole('button', { name: 'Issue a token' }).click();
    const issued = await adminPage.page.locator('#new-token').inputValue();
    expect(issued).toMatch(/^psc_/);
    const issuedRow = adminPage.page.locator(`#user-${reader.user.id} + tr.tokens-row tr`, { hasText: 'month-end laptop' });
    await adminPage.page.locator(`#user-${reader.user.id} + tr.tokens-row summary`).click();
    await expect(issuedRow.innerText()).resolves.toMatch(/active, expires/);
    // The token is masked in the picture: even a test token does not belong in docs/.
    await screenshot(adminPage.page, 'console-users', true, [adminPage.page.locator('#new-token')]);
    await issuedRow.getByRole('button', { name: /^Revoke token/ }).click();
    await expect(adminPage.page.locator('.flash').innerText()).resolves.toContain('is revoked');
    await expect((await fetch(`${url}/api/v1/users/me`, { headers: { authorization: `Bearer ${issued}` } })).status).toBe(401);
    await deactivated.page.getByRole('link', { name: 'Budgets' }).click();
    await deactivated.page.waitForURL(/\/console\/sign-in/);
    await deactivated.context.close();
    await adminPage.context.close();
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
