import { ConfigError, loadAppConfig, parseDuration } from './app-config';

const valid = {
  DATABASE_URL: 'postgres://connector:s3cret-db-pass@db.internal:5432/connector',
  PROCORE_CLIENT_ID: 'client',
  PROCORE_CLIENT_SECRET: 'procore-client-secret-value',
  PROCORE_COMPANY_ID: '8',
  PROCORE_WEBHOOK_SECRET: 'webhook-secret-value-0123456789abcdef',
  SPECTRUM_URL: 'https://spectrum.example.com:8482',
  SPECTRUM_AUTHORIZATION_ID: 'API',
  SPECTRUM_COMPANY_CODE: 'ABC',
  SMTP_URL: 'smtp://mailer:mail-pass@smtp.example.com:587',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadAppConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadAppConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadAppConfig(valid);
    expect(config).toMatchObject({
      port: 3000,
      redisUrl: 'redis://127.0.0.1:6379',
      publicUrl: 'http://localhost:3000',
      role: 'all',
      procore: { apiUrl: 'https://api.procore.com', loginUrl: 'https://login.procore.com', perPage: 1000, timeoutMs: 30000, projectIds: [] },
      spectrum: { auth: 'none', transport: 'soap', concurrency: 4, timeoutMs: 60000, priceMethodCode: 'J', fileImportWaitMs: 86_400_000 },
      reconcileTolerance: 0n,
      schedules: { dailySummaryCron: '0 7 * * *', dailySummaryTz: 'UTC', stuckAfterMinutes: 15 },
    });
  });

  it('parses lists, amounts and durations', () => {
    const config = loadAppConfig({
      ...valid,
      PROCORE_PROJECT_IDS: ' 1001, 1002 ,1003',
      RECONCILE_TOLERANCE: '1.5',
      SPECTRUM_FILE_IMPORT_WAIT: '90m',
      DAILY_SUMMARY_TZ: 'America/Chicago',
    });
    expect(config.procore.projectIds).toEqual([1001, 1002, 1003]);
    expect(config.reconcileTolerance).toBe(150n);
    expect(config.spectrum.fileImportWaitMs).toBe(90 * 60_000);
    expect(parseDuration('24h')).toBe(86_400_000);
  });

  it('reads SPECTRUM_COST_TYPES as the company\'s cost types (upper case), and refuses a malformed list', () => {
    expect(loadAppConfig(valid).spectrum.costTypes).toBeNull();
    expect([...loadAppConfig({ ...valid, SPECTRUM_COST_TYPES: ' l, M ,SUB,9' }).spectrum.costTypes!]).toEqual(['L', 'M', 'SUB', '9']);
    for (const bad of ['L,,M', 'LABR', 'L;M', 'L M']) {
      expect(problemsOf({ ...valid, SPECTRUM_COST_TYPES: bad })).toEqual([
        'SPECTRUM_COST_TYPES must be a comma-separated list of cost types of 1 to 3 letters or digits, like L,M,S,E,O',
      ]);
    }
  });

  it('reads REQUIRE_INDEPENDENT_APPROVER as true or false only (default false)', () => {
    expect(loadAppConfig(valid).requireIndependentApprover).toBe(false);
    expect(loadAppConfig({ ...valid, REQUIRE_INDEPENDENT_APPROVER: ' TRUE ' }).requireIndependentApprover).toBe(true);
    expect(loadAppConfig({ ...valid, REQUIRE_INDEPENDENT_APPROVER: 'false' }).requireIndependentApprover).toBe(false);
    expect(loadAppConfig({ ...valid, REQUIRE_INDEPENDENT_APPROVER: '' }).requireIndependentApprover).toBe(false);
    for (const value of ['yes', '1', 'on']) {
      expect(problemsOf({ ...valid, REQUIRE_INDEPENDENT_APPROVER: value })).toEqual(['REQUIRE_INDEPENDENT_APPROVER must be true or false']);
    }
  });

  it('refuses http:// to Procore or Spectrum unless the host is this machine or ALLOW_INSECURE_HTTP=true', () => {
    const insecure = {
      ...valid,
      PROCORE_API_URL: 'http://procore.example.com',
      PROCORE_LOGIN_URL: 'http://10.0.0.8:8080',
      SPECTRUM_URL: 'http://spectrum.internal:8482',
    };
    expect(problemsOf(insecure)).toEqual([
      'PROCORE_API_URL uses http:// to a host other than this machine; use https://, or set ALLOW_INSECURE_HTTP=true (e.g. inside a private network)',
      'PROCORE_LOGIN_URL uses http:// to a host other than this machine; use https://, or set ALLOW_INSECURE_HTTP=true (e.g. inside a private network)',
      'SPECTRUM_URL uses http:// to a host other than this machine; use https://, or set ALLOW_INSECURE_HTTP=true (e.g. inside a private network)',
    ]);
    expect(problemsOf({ ...insecure, ALLOW_INSECURE_HTTP: 'true' })).toEqual([]);
    expect(loadAppConfig({ ...insecure, ALLOW_INSECURE_HTTP: 'true' }).security.allowInsecureHttp).toBe(true);
    for (const host of ['127.0.0.1:9', 'localhost:3000', '127.8.9.10', '[::1]:8482']) {
      expect(problemsOf({ ...valid, PROCORE_API_URL: `http://${host}`, SPECTRUM_URL: `http://${host}` })).toEqual([]);
    }
    // Near misses are not this machine.
    for (const host of ['127.0.0.1.example.com', 'localhost.example.com', '128.0.0.1']) {
      expect(problemsOf({ ...valid, SPECTRUM_URL: `http://${host}` })).toHaveLength(1);
    }
    expect(problemsOf({ ...valid, ALLOW_INSECURE_HTTP: 'sure' })).toEqual(['ALLOW_INSECURE_HTTP must be true or false']);
  });

  it('reads the rate limits and TRUST_PROXY', () => {
    expect(loadAppConfig(valid).security).toEqual({ allowInsecureHttp: false, trustProxy: false, authFailuresPerMinute: 20, fanOutPerMinute: 30 });
    expect(loadAppConfig({ ...valid, TRUST_PROXY: '1', RATE_LIMIT_AUTH_FAILURES: '5', RATE_LIMIT_FAN_OUT: '10' }).security).toMatchObject({
      trustProxy: 1,
      authFailuresPerMinute: 5,
      fanOutPerMinute: 10,
    });
    expect(loadAppConfig({ ...valid, TRUST_PROXY: 'loopback, 10.0.0.0/8' }).security.trustProxy).toBe('loopback,10.0.0.0/8');
    expect(problemsOf({ ...valid, TRUST_PROXY: 'everyone!', RATE_LIMIT_FAN_OUT: '0' })).toEqual([
      'TRUST_PROXY must be true, false, a number of proxies, or comma-separated addresses/subnets (e.g. loopback, 10.0.0.0/8)',
      'RATE_LIMIT_FAN_OUT must be a whole number from 1 to 100000',
    ]);
  });

  it('names every missing required variable at once', () => {
    const problems = problemsOf({});
    for (const name of ['DATABASE_URL', 'PROCORE_CLIENT_ID', 'PROCORE_CLIENT_SECRET', 'PROCORE_COMPANY_ID', 'PROCORE_WEBHOOK_SECRET', 'SPECTRUM_URL', 'SPECTRUM_AUTHORIZATION_ID', 'SPECTRUM_COMPANY_CODE', 'SMTP_URL']) {
      expect(problems.join('\n')).toContain(name);
    }
  });

  it('names each bad value and never echoes a secret', () => {
    const env = {
      ...valid,
      DATABASE_URL: 'mysql://user:hunter2@host/db',
      PORT: 'eighty',
      APP_ROLE: 'everything',
      SPECTRUM_AUTH: 'bearer',
      SPECTRUM_TRANSPORT: 'file',
      SPECTRUM_CONCURRENCY: '0',
      SPECTRUM_COMPANY_CODE: 'ABCD',
      PROCORE_PER_PAGE: '20000',
      RECONCILE_TOLERANCE: '-1',
      DAILY_SUMMARY_CRON: 'every morning',
      DAILY_SUMMARY_TZ: 'Mars/Olympus',
      MAPPING_FILE: '/nonexistent/mapping.yaml',
    };
    const problems = problemsOf(env);
    const text = problems.join('\n');
    for (const name of ['DATABASE_URL', 'PORT', 'APP_ROLE', 'SPECTRUM_CLIENT_ID', 'SPECTRUM_CLIENT_SECRET', 'SPECTRUM_EXPORT_DIR', 'SPECTRUM_CONCURRENCY', 'SPECTRUM_COMPANY_CODE', 'PROCORE_PER_PAGE', 'RECONCILE_TOLERANCE', 'DAILY_SUMMARY_CRON', 'DAILY_SUMMARY_TZ', 'MAPPING_FILE']) {
      expect(text).toContain(name);
    }
    expect(problems).toHaveLength(13);
    for (const secret of ['hunter2', 'procore-client-secret-value', 'webhook-secret-value-0123456789abcdef', 'mail-pass']) expect(text).not.toContain(secret);
  });

  it('PROCORE_PER_PAGE is at most 2,000 (Procore’s recommendation for v1 lists); PROCORE_REVISED_COLUMN names a column', () => {
    expect(problemsOf({ ...valid, PROCORE_PER_PAGE: '2001' })).toEqual(['PROCORE_PER_PAGE must be a whole number from 1 to 2000']);
    expect(problemsOf({ ...valid, PROCORE_PER_PAGE: '2000', PROCORE_REVISED_COLUMN: ' Revised Estimate ' })).toEqual([]);
    expect(loadAppConfig({ ...valid, PROCORE_REVISED_COLUMN: ' Revised Estimate ' }).procore).toMatchObject({ revisedColumn: 'Revised Estimate' });
    expect(loadAppConfig(valid).procore).toMatchObject({ revisedColumn: 'Revised Budget', perPage: 1000 });
    expect(problemsOf({ ...valid, PROCORE_REVISED_COLUMN: ' -- ' })).toEqual([
      'PROCORE_REVISED_COLUMN must name a budget view column (it holds no letter or digit)',
    ]);
  });

  it('catches values that look right but cannot work, naming the variable', () => {
    const problems = problemsOf({
      ...valid,
      DATABASE_URL: 'postgres://connector:pa/ss@db.internal:5432/connector',
      SMTP_URL: 'smtp://user%ZZ:pw@smtp.example.com:587',
      DAILY_SUMMARY_CRON: '0 0 30 2 *',
    });
    expect(problems).toEqual([
      'DAILY_SUMMARY_CRON never fires (e.g. a day that does not exist): "0 0 30 2 *"',
      'DATABASE_URL has a user name or password holding / # ? or @: percent-encode them there (/ as %2F, # as %23, ? as %3F, @ as %40)',
      'SMTP_URL has a user name or password that is not valid percent-encoding',
    ]);
    expect(problems.join('\n')).not.toContain('pa/ss');
  });

  it('refuses a webhook secret shorter than 32 characters without echoing it; the previous one is optional, with the same minimum', () => {
    const short = 'short-webhook-secret-31-chars!!';
    expect(short).toHaveLength(31);
    const problems = problemsOf({ ...valid, PROCORE_WEBHOOK_SECRET: short });
    expect(problems).toEqual(['PROCORE_WEBHOOK_SECRET must be at least 32 characters (a long random value)']);
    expect(problems.join('\n')).not.toContain(short);
    expect(problemsOf({ ...valid, PROCORE_WEBHOOK_SECRET: short + 'x' })).toEqual([]);

    const previous = problemsOf({ ...valid, PROCORE_WEBHOOK_SECRET_PREVIOUS: short });
    expect(previous).toEqual(['PROCORE_WEBHOOK_SECRET_PREVIOUS must be at least 32 characters (rotate a shorter one out at once: leave it empty)']);
    expect(previous.join('\n')).not.toContain(short);
    expect(problemsOf({ ...valid, PROCORE_WEBHOOK_SECRET_PREVIOUS: '   ' })).toEqual([]);
    const old = `old-${short}`;
    const rotating = loadAppConfig({ ...valid, PROCORE_WEBHOOK_SECRET_PREVIOUS: old, WEBHOOK_RETENTION_DAYS: '7' });
    expect(rotating.procore).toMatchObject({ webhookSecretPrevious: old, webhookRetentionDays: 7 });
    expect(loadAppConfig(valid).procore).toMatchObject({ webhookSecretPrevious: undefined, webhookRetentionDays: 30 });
    expect(problemsOf({ ...valid, PROCORE_WEBHOOK_SECRET_PREVIOUS: valid.PROCORE_WEBHOOK_SECRET, WEBHOOK_RETENTION_DAYS: '0' })).toEqual([
      'WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 3650',
      'PROCORE_WEBHOOK_SECRET_PREVIOUS equals PROCORE_WEBHOOK_SECRET; set it to the secret being rotated out, or leave it empty',
    ]);
  });

  it('PROCORE_COMPANY_ID: "must be a whole number" for 8a, "is required" when absent, never the value', () => {
    expect(problemsOf({ ...valid, PROCORE_COMPANY_ID: '8a' })).toEqual(['PROCORE_COMPANY_ID must be a whole number (the company id in Procore, 1 or more)']);
    expect(problemsOf({ ...valid, PROCORE_COMPANY_ID: '1.5' })).toEqual(['PROCORE_COMPANY_ID must be a whole number (the company id in Procore, 1 or more)']);
    expect(problemsOf({ ...valid, PROCORE_COMPANY_ID: '0' })).toEqual(['PROCORE_COMPANY_ID must be a whole number (the company id in Procore, 1 or more)']);
    expect(problemsOf({ ...valid, PROCORE_COMPANY_ID: undefined })).toEqual(['PROCORE_COMPANY_ID is required (the company id in Procore, a whole number)']);
    expect(problemsOf({ ...valid, PROCORE_COMPANY_ID: ' ' })).toEqual(['PROCORE_COMPANY_ID is required (the company id in Procore, a whole number)']);
    expect(loadAppConfig({ ...valid, PROCORE_COMPANY_ID: ' 42 ' }).procore.companyId).toBe(42);
  });

  it('a DATABASE_URL or REDIS_URL whose password holds / # ? or @ unencoded says to percent-encode it, never showing the password', () => {
    const encode = (name: string) =>
      `${name} has a user name or password holding / # ? or @: percent-encode them there (/ as %2F, # as %23, ? as %3F, @ as %40)`;
    for (const password of ['pa/ss', '12/34', 'pa#ss', '12#3', 'pa?ss', 'p@ss', 'a/b#c?d@e']) {
      const problems = problemsOf({
        ...valid,
        DATABASE_URL: `postgres://connector:${password}@db.internal:5432/connector`,
        REDIS_URL: `redis://default:${password}@cache.internal:6379`,
      });
      expect(problems).toEqual([encode('DATABASE_URL'), encode('REDIS_URL')]);
      expect(problems.join('\n')).not.toContain(password);
    }
    // Encoded, they are fine and reach the connection as typed.
    const encoded = loadAppConfig({
      ...valid,
      DATABASE_URL: 'postgres://connector:a%2Fb%23c%3Fd%40e@db.internal:5432/connector',
      REDIS_URL: 'redis://:a%2Fb@cache.internal:6379/2',
    });
    expect(decodeURIComponent(new URL(encoded.databaseUrl).password)).toBe('a/b#c?d@e');
    expect(encoded.redisUrl).toBe('redis://:a%2Fb@cache.internal:6379/2');
    // A port that is not a number is still "not a valid URL".
    expect(problemsOf({ ...valid, DATABASE_URL: 'postgres://db.internal:port/connector' })).toEqual([
      'DATABASE_URL is not a valid URL (percent-encode special characters such as / # ? @ : in the password)',
    ]);
  });
});
