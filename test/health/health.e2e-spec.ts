import { Client } from 'pg';
import { OpsServer } from '../../src/health/ops-server';
import { request } from '../support/http';
import { databaseUrl, PG_ADMIN_URL, runId, templateDatabase } from '../support/test-env';
import { startTestApp, startTestWorker, TestApp } from '../support/test-app';

/** A database cloned from the migrated template, whose newest migration is then "not applied". */
async function databaseMissingItsNewestMigration(admin: Client, name: string): Promise<string> {
  await admin.query(`drop database if exists "${name}" with (force)`);
  await admin.query(`create database "${name}" template "${templateDatabase()}"`);
  const client = new Client({ connectionString: databaseUrl(name) });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(`delete from mikro_orm_migrations where id = (select max(id) from mikro_orm_migrations) returning name`);
    return rows[0].name;
  } finally {
    await client.end();
  }
}

/** Readiness, asked again every 200 ms for up to 60 s while it answers 503. */
async function untilReady(url: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const ready = await request(url, 'GET', '/health/ready');
    if (ready.status !== 503 || Date.now() > deadline) return ready;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('health (terminus)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('live and ready answer 200 with terminus JSON; /health is readiness', async () => {
    const live = await request(t.url, 'GET', '/health/live');
    expect(live.status).toBe(200);
    expect(live.body).toMatchObject({ status: 'ok', info: { process: { status: 'up' } }, error: {} });
    const ready = await request(t.url, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ok',
      info: { database: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' } },
      error: {},
      details: { database: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' } },
    });
    expect(ready.headers.get('cache-control')).toBe('no-store');
    expect((await request(t.url, 'GET', '/health')).body).toEqual(ready.body);
  });

  it('with Redis unreachable: ready 503 naming redis, live 200', async () => {
    const offline = await startTestApp({ env: { REDIS_URL: 'redis://:redis-password@127.0.0.1:1/0' } });
    try {
      const ready = await request(offline.url, 'GET', '/health/ready');
      expect(ready.status).toBe(503);
      expect(ready.body.status).toBe('error');
      expect(Object.keys(ready.body.error)).toEqual(['redis']);
      expect(ready.body.error.redis.status).toBe('down');
      expect(ready.body.details).toMatchObject({ database: { status: 'up' }, migrations: { status: 'up' } });
      expect(ready.text).not.toContain('redis-password');
      expect((await request(offline.url, 'GET', '/health')).status).toBe(503);
      const live = await request(offline.url, 'GET', '/health/live');
      expect(live.status).toBe(200);
      expect(live.body.status).toBe('ok');
    } finally {
      await offline.close();
    }
  });

  describe('with a migration pending', () => {
    const name = `connector_test_${runId()}_health_pending`;
    let admin: Client;
    let missing: string;
    beforeAll(async () => {
      admin = new Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      missing = await databaseMissingItsNewestMigration(admin, name);
    });
    afterAll(async () => {
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    });

    it('ready 503 naming the migration and `npm run migration:up`; live 200', async () => {
      const behind = await startTestApp({ env: { DATABASE_URL: databaseUrl(name) } });
      try {
        const ready = await request(behind.url, 'GET', '/health/ready');
        expect(ready.status).toBe(503);
        expect(Object.keys(ready.body.error)).toEqual(['migrations']);
        expect(ready.body.error.migrations).toMatchObject({ status: 'down', pending: [missing] });
        expect(ready.body.error.migrations.message).toContain(missing);
        expect(ready.body.error.migrations.message).toContain('npm run migration:up');
        expect(ready.body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
        expect((await request(behind.url, 'GET', '/health/live')).status).toBe(200);
      } finally {
        await behind.close();
      }
    });
  });

  it('a worker serves live, ready (with its heartbeat) and /metrics on its own port', async () => {
    const worker = await startTestWorker({ runScheduler: true });
    try {
      const port = await worker.app.get(OpsServer).listen(0, '127.0.0.1');
      const url = `http://127.0.0.1:${port}`;
      expect((await request(url, 'GET', '/health/live')).status).toBe(200);
      // Its connections may still be coming up under load: ready once they are.
      const ready = await untilReady(url);
      expect({ status: ready.status, error: ready.body.error }).toEqual({ status: 200, error: {} });
      expect(ready.body.info).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' }, migrations: { status: 'up' }, worker: { status: 'up' } });
      expect(ready.body.info.worker.queues).toBeGreaterThan(0);
      expect(ready.body.info.worker.schedules).toBeGreaterThan(0);
      expect((await request(url, 'GET', '/health')).status).toBe(200);
      const metrics = await request(url, 'GET', '/metrics');
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      expect(metrics.text).toContain('# TYPE');
      expect((await request(url, 'GET', '/nothing')).status).toBe(404);
      expect((await request(url, 'POST', '/health/ready')).status).toBe(405);
    } finally {
      await worker.close();
    }
  });
});
