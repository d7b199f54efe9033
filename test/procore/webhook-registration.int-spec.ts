import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProcoreClient } from '../../src/procore/client/procore-client';
import {
  RegistrationResult,
  WEBHOOK_NAMESPACE,
  WEBHOOK_TRIGGERS,
  registerProjectWebhook,
  registerWebhooks,
} from '../../src/procore/webhooks/webhook-registration';
import { testEnvironment } from '../support/test-env';
import { ProcoreStandIn, WebhookResource } from '../stand-ins/procore';

const ROOT = join(__dirname, '..', '..');
const SECRET = 'hook-secret-never-printed-4242-abcdefghij';
const PROJECT_TRIGGERS = WEBHOOK_TRIGGERS.filter((t) => t.resourceName !== 'Projects');
const COMPANY_TRIGGERS = WEBHOOK_TRIGGERS.filter((t) => t.resourceName === 'Projects');

describe('registering the connector webhooks in Procore', () => {
  const standIn = new ProcoreStandIn();
  const url = 'https://connector.example.com/webhooks/procore';

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => {
    standIn.reset();
    standIn.addProject({ id: 1001, name: 'Riverside' });
    standIn.addProject({ id: 1002, name: 'Harbor' });
    standIn.addProject({ id: 1003, name: 'Closed job', active: false });
  });

  const client = () => new ProcoreClient({ ...standIn.clientOptions(), baseDelayMs: 5 });
  const register = (options: { projectIds?: number[]; authorization?: string } = {}) =>
    registerWebhooks(client(), { destinationUrl: url, authorization: options.authorization ?? SECRET, projectIds: options.projectIds });
  const created = (result: RegistrationResult) => result.hooks.flatMap((h) => h.createdTriggers);
  const triggersOf = (projectId: number | null) => {
    const hook = standIn.hooks().find((h) => h.project_id === projectId);
    return hook ? standIn.triggers(hook.id).map((t) => `${t.resource_name}/${t.event_type}`) : [];
  };

  it('company scope lacks the budget resources: a company hook for Projects, a project hook per active project', async () => {
    const first = await register();
    expect(first.api).toBe('v2');
    expect(first.warnings).toEqual([]);
    expect(first.hooks.map((h) => [h.scope.projectId ?? 'company', h.hookCreated, h.createdTriggers.length])).toEqual([
      ['company', true, COMPANY_TRIGGERS.length],
      [1001, true, PROJECT_TRIGGERS.length],
      [1002, true, PROJECT_TRIGGERS.length],
    ]);
    expect(standIn.hooks().map((h) => [h.project_id, h.namespace, h.destination_url, h.destination_headers])).toEqual([
      [null, WEBHOOK_NAMESPACE, url, { Authorization: SECRET }],
      [1001, WEBHOOK_NAMESPACE, url, { Authorization: SECRET }],
      [1002, WEBHOOK_NAMESPACE, url, { Authorization: SECRET }],
    ]);
    expect(triggersOf(null)).toEqual(['Projects/create', 'Projects/update']);
    expect(triggersOf(1001)).toContain('Budget View Snapshots/create');
    expect(triggersOf(1001)).toContain('Budget Line Items/update');
    // The inactive project is not watched when PROCORE_PROJECT_IDS is empty.
    expect(standIn.hooks().some((h) => h.project_id === 1003)).toBe(false);
  });

  it.each([
    ['masked secrets, CREATED (the reference’s v2.0 example)', { maskSecrets: true, eventTypeStyle: 'past-upper' as const }],
    ['masked secrets, CREATE (v1.0’s spelling)', { maskSecrets: true, eventTypeStyle: 'upper' as const }],
    ['unmasked secrets, create', { maskSecrets: false, eventTypeStyle: 'lower' as const }],
  ])('running it twice (%s): the second run creates nothing and warns about nothing', async (_label, behaviour) => {
    standIn.setWebhookBehaviour(behaviour);
    const first = await register();
    expect(created(first)).toHaveLength(COMPANY_TRIGGERS.length + 2 * PROJECT_TRIGGERS.length);
    const hooksBefore = standIn.hooks().length;
    const triggersBefore = standIn.triggers().length;
    standIn.clearLog();

    const second = await register();

    expect(second.warnings).toEqual([]);
    expect(second.hooks.every((h) => !h.hookCreated && h.createdTriggers.length === 0)).toBe(true);
    expect(standIn.hooks()).toHaveLength(hooksBefore);
    expect(standIn.triggers()).toHaveLength(triggersBefore);
    expect(standIn.countRequests({ method: 'POST', path: '/webhooks/' })).toBe(0);
  });

  it('compares a masked secret by its visible characters: a different secret is warned about, never quoted', async () => {
    await register();
    const result = await register({ authorization: 'a-new-secret-after-rotation-0000000000' });
    expect(result.warnings).toHaveLength(3);
    expect(result.warnings[0]).toMatch(/^company hook 1 sends an Authorization header that differs from PROCORE_WEBHOOK_SECRET/);
    expect(result.warnings[1]).toMatch(/^project 1001 hook \d+ sends an Authorization header that differs/);
    expect(result.warnings.join(' ')).not.toContain(SECRET.slice(-5));
    expect(created(result)).toEqual([]);
  });

  it('completes hooks that miss triggers, whatever case or tense the existing ones are listed in', async () => {
    const hook = standIn.addHook({ namespace: WEBHOOK_NAMESPACE, destinationUrl: url, destinationHeaders: { Authorization: SECRET }, projectId: 1001 });
    standIn.addTrigger(hook.id, 'Budget Line Items', 'UPDATED');
    standIn.addTrigger(hook.id, 'Cost Codes', 'Create');
    const result = await register({ projectIds: [1001] });
    const project = result.hooks.find((h) => h.scope.projectId === 1001);
    expect(project).toMatchObject({ hookCreated: false, hook: { id: hook.id }, existingTriggers: 2 });
    expect(project?.createdTriggers).toHaveLength(PROJECT_TRIGGERS.length - 2);
    expect(standIn.triggers(hook.id)).toHaveLength(PROJECT_TRIGGERS.length);
  });

  it('watches PROCORE_PROJECT_IDS when set (an inactive project too)', async () => {
    const result = await register({ projectIds: [1003] });
    expect(result.hooks.map((h) => h.scope.projectId ?? 'company')).toEqual(['company', 1003]);
    expect(standIn.countRequests({ path: '/rest/v1.0/projects' })).toBe(0);
  });

  it('company scope offering the budget resources: one company hook with every trigger, no project hooks', async () => {
    const all: WebhookResource[] = [...new Set(WEBHOOK_TRIGGERS.map((t) => t.resourceName))].map((name) => ({
      name,
      category: 'Construction Financials',
      tool: 'Budget',
      actions: ['create', 'update', 'delete'],
    }));
    standIn.setWebhookResources({ company: all });
    const result = await register();
    expect(result.hooks.map((h) => [h.scope.projectId ?? 'company', h.createdTriggers.length])).toEqual([['company', WEBHOOK_TRIGGERS.length]]);
    expect(standIn.hooks()).toHaveLength(1);
  });

  it('reads v2.0 lists at most 100 per page, across pages', async () => {
    const many: WebhookResource[] = Array.from({ length: 150 }, (_, i) => ({ name: `Resource ${i}`, category: 'c', tool: 't', actions: ['create'] }));
    standIn.setWebhookResources({ company: [...many, { name: 'Projects', category: 'Core', tool: 'Portfolio', actions: ['create', 'update'] }] });
    const result = await register({ projectIds: [1001] });
    expect(result.hooks[0].createdTriggers).toEqual(COMPANY_TRIGGERS);
    const v2Lists = standIn.requests.filter((r) => r.method === 'GET' && r.path.startsWith('/rest/v2.0/'));
    expect(v2Lists.length).toBeGreaterThan(0);
    expect(v2Lists.every((r) => Number(r.query.per_page) <= 100)).toBe(true);
    expect(standIn.countRequests({ path: '/rest/v2.0/companies/8/webhooks/resources' })).toBe(2);
  });

  it('a company answering 404 on the v2.0 webhooks API is registered through the v1.0 hooks API, idempotently', async () => {
    standIn.setWebhookBehaviour({ api: 'v1' });
    const first = await register({ projectIds: [1001] });
    expect(first.api).toBe('v1');
    expect(first.hooks.map((h) => [h.scope.projectId ?? 'company', h.createdTriggers.length])).toEqual([
      ['company', COMPANY_TRIGGERS.length],
      [1001, PROJECT_TRIGGERS.length],
    ]);
    const createHook = standIn.requests.find((r) => r.method === 'POST' && r.path === '/rest/v1.0/webhooks/hooks');
    expect(createHook?.body).toEqual({
      company_id: standIn.companyId,
      hook: { api_version: 'v2', namespace: WEBHOOK_NAMESPACE, destination_url: url, destination_headers: { Authorization: SECRET } },
    });
    const createTrigger = standIn.requests.find((r) => r.method === 'POST' && /^\/rest\/v1\.0\/webhooks\/hooks\/\d+\/triggers$/.test(r.path));
    expect(createTrigger?.body).toEqual({ company_id: standIn.companyId, api_version: 'v2', trigger: { resource_name: 'Projects', event_type: 'create' } });

    const second = await register({ projectIds: [1001] });
    expect(second.warnings).toEqual([]);
    expect(created(second)).toEqual([]);
    expect(standIn.hooks()).toHaveLength(2);
  });

  it('registerProjectWebhook: a new project gets its hook, delivering where the company hook does', async () => {
    await register({ projectIds: [1001] });
    standIn.addProject({ id: 1004, name: 'Brand new' });
    const { registration, warnings } = await registerProjectWebhook(client(), { projectId: 1004, authorization: SECRET });
    expect(warnings).toEqual([]);
    expect(registration).toMatchObject({ scope: { projectId: 1004 }, hookCreated: true, hook: { destination_url: url } });
    expect(registration?.createdTriggers).toEqual(PROJECT_TRIGGERS);
    const again = await registerProjectWebhook(client(), { projectId: 1004, authorization: SECRET });
    expect(again.registration).toMatchObject({ hookCreated: false, createdTriggers: [] });
    expect(standIn.hooks().filter((h) => h.project_id === 1004)).toHaveLength(1);
  });

  it('registerProjectWebhook: nothing to do when company scope offers the budget resources; an error without a company hook', async () => {
    await expect(registerProjectWebhook(client(), { projectId: 1001, authorization: SECRET })).rejects.toThrow(
      /no company-level hook in namespace "procore-spectrum-connector".*run procore:register-webhooks first/,
    );
    standIn.setWebhookResources({
      company: [...new Set(WEBHOOK_TRIGGERS.map((t) => t.resourceName))].map((name) => ({ name, category: 'c', tool: 't', actions: ['create', 'update', 'delete'] })),
    });
    expect(await registerProjectWebhook(client(), { projectId: 1001, authorization: SECRET })).toEqual({ registration: null, warnings: [] });
  });

  it('refuses to take over a hook of the namespace that delivers elsewhere', async () => {
    standIn.addHook({ namespace: WEBHOOK_NAMESPACE, destinationUrl: 'https://old.example.com/hook' });
    await expect(register()).rejects.toThrow(
      /already has company hook 1 in namespace "procore-spectrum-connector", delivering to https:\/\/old.example.com\/hook/,
    );
  });

  it('npm run cli -- procore:register-webhooks --url … (the real CLI), twice, never printing the secret', async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'cli.ts'), 'procore:register-webhooks', '--url', url], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH,
          TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
          ...testEnvironment(standIn.environment()),
          PROCORE_WEBHOOK_SECRET: SECRET,
          PROCORE_PROJECT_IDS: '1001',
        },
      });
    const first = await run();
    expect(first.stdout).toContain(`Created company hook 1 (namespace "${WEBHOOK_NAMESPACE}") → ${url}`);
    expect(first.stdout).toContain(`Created project 1001 hook 2 (namespace "${WEBHOOK_NAMESPACE}") → ${url}`);
    expect(first.stdout).toContain(`Created ${PROJECT_TRIGGERS.length} trigger(s)`);
    const second = await run();
    expect(second.stdout).toContain('Reusing company hook 1');
    expect(second.stdout).toContain(`All ${PROJECT_TRIGGERS.length} triggers were already present.`);
    expect(second.stderr).not.toContain('Warning');
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(SECRET);
    expect(standIn.hooks()[0].destination_headers).toEqual({ Authorization: SECRET });
    // Two ts-node start-ups of the CLI: slow on a loaded machine.
  }, 240_000);
});
