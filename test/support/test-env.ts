import { AppConfig, loadAppConfig } from '../../src/config/app-config';

export const PG_ADMIN_URL = process.env.TEST_PG_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** Set by the global setup: concurrent jest runs on one machine get databases of their own. */
export function runId(): string {
  return process.env.TEST_RUN_ID ?? 'local';
}

export function templateDatabase(): string {
  return `connector_test_${runId()}_template`;
}

export function workerId(): number {
  return Number(process.env.JEST_WORKER_ID ?? process.env.TEST_WORKER ?? '1');
}

export function databaseName(worker = workerId()): string {
  return `connector_test_${runId()}_w${worker}`;
}

export function databaseUrl(name = databaseName()): string {
  return PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
}

/**
 * Each jest worker of a run has a Redis database index of its own, and every key a test app
 * writes is under `test-<run id>:`. Only the Redis-flush tests (flushRedis) empty a whole index,
 * which another jest run on the same machine at that moment would feel.
 */
export function redisUrl(worker = workerId()): string {
  const base = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  return `${base}/${worker % 16}`;
}

/** A complete, valid environment for tests; stand-in URLs are filled in by the tests that use them. */
export function testEnvironment(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    DATABASE_URL: databaseUrl(),
    REDIS_URL: redisUrl(),
    PUBLIC_URL: 'http://connector.test',
    PROCORE_API_URL: 'http://127.0.0.1:9',
    PROCORE_LOGIN_URL: 'http://127.0.0.1:9',
    PROCORE_CLIENT_ID: 'test-client',
    PROCORE_CLIENT_SECRET: 'test-secret',
    PROCORE_COMPANY_ID: '8',
    PROCORE_WEBHOOK_SECRET: 'test-webhook-secret-0123456789abcdef',
    SPECTRUM_URL: 'http://127.0.0.1:9',
    SPECTRUM_AUTHORIZATION_ID: 'API',
    SPECTRUM_COMPANY_CODE: 'ABC',
    SMTP_URL: 'smtp://127.0.0.1:9',
    MAIL_FROM: 'Connector <connector@example.com>',
    STUCK_AFTER_MINUTES: '15',
    // Every test request comes from 127.0.0.1: the rate limits' own tests set small values.
    RATE_LIMIT_AUTH_FAILURES: '100000',
    RATE_LIMIT_FAN_OUT: '100000',
    ...overrides,
  };
}

export function testConfig(overrides: Record<string, string | undefined> = {}): AppConfig {
  return loadAppConfig(testEnvironment(overrides));
}
