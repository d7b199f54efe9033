import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ProcoreClient } from '../../src/procore/procore-client';
import { registerWebhooks, WEBHOOK_NAMESPACE, WEBHOOK_TRIGGERS } from '../../src/procore/webhooks/webhook-registration';
import { testEnvironment } from '../support/test-env';
import { ProcoreStandIn } from '../stand-ins/procore';

const ROOT = join(__dirname, '..', '..');
const SECRET = 'hook-secret-never-printed-4242-0123456789';

describe('registering the connector webhook in Procore', () => {
  const standIn = new ProcoreStandIn();
  const url = 'https://connector.example.com/webhooks/procore';

  beforeAll(() => standIn.start());
  afterAll(() => standIn.stop());
  beforeEach(() => standIn.reset());

  const client = () => new ProcoreClient({ ...standIn.clientOptions(), baseDelayMs: 5 });

  it('creates the hook and its triggers once; running again creates nothing', async () => {
    const first = await registerWebhooks(client(), { destinationUrl: url, authorization: SECRET });
    expect(first).toMatchObject({ hookCreated: true, existingTriggers: 0, warnings: [] });
    expect(first.createdTriggers).toHaveLength(WEBHOOK_TRIGGERS.length);
    const [hook] = standIn.hooks();
    expect(hook).toMatchObject({ namespace: WEBHOOK_NAMESPACE, destination_url: url, payload_version: 'v2', destination_headers: { Authorization: SECRET } });
    expect(standIn.triggers(hook.id).map((t) => `${t.resource_name}/${t.event_type}`)).toContain('Budget View Snapshots/create');

    const second = await registerWebhooks(client(), { destinationUrl: url, authorization: SECRET });
    expect(second).toMatchObject({ hookCreated: false, createdTriggers: [], existingTriggers: WEBHOOK_TRIGGERS.length });
    expect(standIn.hooks()).toHaveLength(1);
    expect(standIn.triggers()).toHaveLength(WEBHOOK_TRIGGERS.length);
  });

  it('completes a hook that misses triggers, and warns when its secret differs', async () => {
    const hook = standIn.addHook({ namespace: WEBHOOK_NAMESPACE, destinationUrl: url, destinationHeaders: { Authorization: 'old' } });
    const result = await registerWebhooks(client(), { destinationUrl: url, authorization: SECRET });
    expect(result).toMatchObject({ hookCreated: false, hook: { id: hook.id } });
    expect(result.createdTriggers).toHaveLength(WEBHOOK_TRIGGERS.length);
    expect(result.warnings).toEqual([expect.stringMatching(/differs from PROCORE_WEBHOOK_SECRET/)]);
    expect(result.warnings[0]).not.toContain(SECRET);
  });

  it('refuses to take over a hook of the namespace that delivers elsewhere', async () => {
    standIn.addHook({ namespace: WEBHOOK_NAMESPACE, destinationUrl: 'https://old.example.com/hook' });
    await expect(registerWebhooks(client(), { destinationUrl: url, authorization: SECRET })).rejects.toThrow(
      /already has hook 1 in namespace "procore-spectrum-connector", delivering to https:\/\/old.example.com\/hook/,
    );
  });

  it('npm run cli -- procore:register-webhooks --url … (the real CLI), never printing the secret', async () => {
    const run = () =>
      promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'cli.ts'), 'procore:register-webhooks', '--url', url], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...testEnvironment(standIn.environment()), PROCORE_WEBHOOK_SECRET: SECRET },
      });
    const first = await run();
    expect(first.stdout).toContain(`Created hook 1 (namespace "${WEBHOOK_NAMESPACE}") → ${url}`);
    expect(first.stdout).toContain(`Created ${WEBHOOK_TRIGGERS.length} trigger(s)`);
    const second = await run();
    expect(second.stdout).toContain(`All ${WEBHOOK_TRIGGERS.length} triggers were already present.`);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(SECRET);
    expect(standIn.hooks()[0].destination_headers).toEqual({ Authorization: SECRET });
  }, 30_000);
});
