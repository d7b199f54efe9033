import { existsSync } from 'node:fs';
import { CronTime, validateCronExpression } from 'cron';
import { parseSmtpUrl } from './smtp-url';
import { Cents, toCents } from '../common/money';
import { validateEnvironment } from './environment';

export type AppRole = 'all' | 'api' | 'worker';
export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** The validated, typed configuration. Built once at start from the environment. */
export class AppConfig {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  publicUrl: string;
  role: AppRole;
  /**
   * SHUTDOWN_TIMEOUT_MS: on SIGTERM a worker takes no new job and starts no new Spectrum call; the
   * calls in flight end and are recorded, then it exits — within this long at the latest.
   */
  shutdownTimeoutMs: number;
  /** LOG_FORMAT (json lines, or pretty for a person at a terminal) and LOG_LEVEL. */
  log: { format: 'json' | 'pretty'; level: LogLevelName };
  /** HEALTH_PORT: where a worker process serves /health/live, /health/ready and /metrics (unset: no HTTP). */
  healthPort?: number;
  /** READ_CACHE_MB: memory for the API's list and details answers (0: no cache). */
  readCacheBytes: number;
  /** MIGRATE_ON_START: apply pending migrations at start (under an advisory lock) instead of refusing to start. */
  migrateOnStart: boolean;
  procore: {
    apiUrl: string;
    loginUrl: string;
    clientId: string;
    clientSecret: string;
    companyId: number;
    webhookSecret: string;
    /** The secret being rotated out (PROCORE_WEBHOOK_SECRET_PREVIOUS), accepted too while set. */
    webhookSecretPrevious?: string;
    /** Stored webhook events are deleted after this many days (WEBHOOK_RETENTION_DAYS). */
    webhookRetentionDays: number;
    /** Empty: every active project of the company. */
    projectIds: number[];
    budgetViewId?: number;
    /** Display name of the budget view column holding the revised budget. */
    revisedColumn: string;
    /** Page size of v1 lists (at most 2,000); v2.0 lists use at most 100. */
    perPage: number;
    timeoutMs: number;
    /** "Sign in with Procore" in the console; absent when not configured. */
    oauth?: { clientId: string; clientSecret: string };
  };
  spectrum: {
    url: string;
    authorizationId: string;
    companyCode: string;
    auth: 'none' | 'bearer' | 'basic';
    clientId?: string;
    clientSecret?: string;
    transport: 'soap' | 'file';
    exportDir?: string;
    fileImportWaitMs: number;
    concurrency: number;
    timeoutMs: number;
    priceMethodCode: string;
    /**
     * SPECTRUM_COST_TYPES: the company's cost types (Cost Type File Maintenance), upper-cased; a row
     * with another cost type is flagged before anything is written. Null when not set.
     */
    costTypes: ReadonlySet<string> | null;
  };
  mappingFile?: string;
  reconcileTolerance: Cents;
  /** REQUIRE_INDEPENDENT_APPROVER: the person who sent a budget cannot accept it. */
  requireIndependentApprover: boolean;
  security: {
    /** ALLOW_INSECURE_HTTP: plain http:// to Procore and Spectrum, and SMTP without TLS, to hosts other than this machine. */
    allowInsecureHttp: boolean;
    /** TRUST_PROXY, as Express reads it: which proxies' X-Forwarded-For names the client. */
    trustProxy: boolean | number | string;
    /** Failed authentications a client (IP address) may make per minute before it must wait. */
    authFailuresPerMinute: number;
    /** Previews and sends (calls that fan out to Spectrum or Procore) per user per minute, each. */
    fanOutPerMinute: number;
  };
  mail: { smtpUrl: string; from: string };
  console: {
    /** A session unused this long ends. */
    sessionIdleMs: number;
    /** A session ends this long after sign-in, however active. */
    sessionMaxMs: number;
  };
  schedules: {
    dailySummaryCron: string;
    dailySummaryTz: string;
    pollCron: string;
    reconcileCron: string;
    userSyncCron: string;
    stuckAfterMinutes: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Reads and validates the environment; throws one ConfigError naming every problem. */
export function loadAppConfig(raw: Record<string, string | undefined> = process.env): AppConfig {
  const { env, problems } = validateEnvironment(raw);
  const text = (name: string) => (typeof raw[name] === 'string' && raw[name]!.trim() !== '' ? raw[name]!.trim() : undefined);
  const schedules = {
    dailySummaryCron: text('DAILY_SUMMARY_CRON') ?? '0 7 * * *',
    dailySummaryTz: text('DAILY_SUMMARY_TZ') ?? 'UTC',
    pollCron: text('POLL_CRON') ?? '*/15 * * * *',
    reconcileCron: text('RECONCILE_CRON') ?? '*/30 * * * *',
    userSyncCron: text('USER_SYNC_CRON') ?? '0 2 * * *',
    stuckAfterMinutes: env?.STUCK_AFTER_MINUTES ?? 15,
  };
  const cronVariables: Array<[string, string]> = [
    ['DAILY_SUMMARY_CRON', schedules.dailySummaryCron],
    ['POLL_CRON', schedules.pollCron],
    ['RECONCILE_CRON', schedules.reconcileCron],
    ['USER_SYNC_CRON', schedules.userSyncCron],
  ];
  const zoneOk = isTimeZone(schedules.dailySummaryTz);
  if (!zoneOk) problems.push('DAILY_SUMMARY_TZ must be an IANA time zone such as UTC or America/Chicago');
  for (const [name, expression] of cronVariables) {
    if (!validateCronExpression(expression).valid) {
      problems.push(`${name} must be a cron expression like "0 7 * * *"`);
    } else if (zoneOk && !firesEver(expression, schedules.dailySummaryTz)) {
      problems.push(`${name} never fires (e.g. a day that does not exist): "${expression}"`);
    }
  }
  for (const [name, scheme] of [['DATABASE_URL', /^postgres(ql)?:\/\//], ['REDIS_URL', /^rediss?:\/\//]] as const) {
    const url = text(name);
    if (!url || !scheme.test(url)) continue; // absent or another scheme: the format rule reports it
    if (hasUnencodedCredentials(url)) {
      problems.push(`${name} has a user name or password holding / # ? or @: percent-encode them there (/ as %2F, # as %23, ? as %3F, @ as %40)`);
    } else if (!isUrl(url)) {
      problems.push(`${name} is not a valid URL (percent-encode special characters such as / # ? @ : in the password)`);
    }
  }
  const smtpUrl = text('SMTP_URL');
  if (smtpUrl && /^smtps?:\/\//.test(smtpUrl)) {
    try {
      parseSmtpUrl(smtpUrl);
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  const webhookSecret = text('PROCORE_WEBHOOK_SECRET');
  if (webhookSecret && webhookSecret === text('PROCORE_WEBHOOK_SECRET_PREVIOUS')) {
    problems.push('PROCORE_WEBHOOK_SECRET_PREVIOUS equals PROCORE_WEBHOOK_SECRET; set it to the secret being rotated out, or leave it empty');
  }
  problems.push(...insecureUrls(raw, text('ALLOW_INSECURE_HTTP')?.toLowerCase() === 'true'));
  const mappingFile = text('MAPPING_FILE');
  if (mappingFile && !existsSync(mappingFile)) {
    problems.push('MAPPING_FILE names a file that does not exist');
  }
  if (!env || problems.length) throw new ConfigError(problems);

  const port = env.PORT ?? 3000;
  return {
    port,
    databaseUrl: env.DATABASE_URL,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    publicUrl: (env.PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    role: env.APP_ROLE ?? 'all',
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS ?? 25_000,
    log: { format: env.LOG_FORMAT ?? 'json', level: env.LOG_LEVEL ?? 'info' },
    healthPort: env.HEALTH_PORT,
    readCacheBytes: (env.READ_CACHE_MB ?? 64) * 1024 * 1024,
    migrateOnStart: env.MIGRATE_ON_START ?? false,
    procore: {
      apiUrl: (env.PROCORE_API_URL ?? 'https://api.procore.com').replace(/\/+$/, ''),
      loginUrl: (env.PROCORE_LOGIN_URL ?? 'https://login.procore.com').replace(/\/+$/, ''),
      clientId: env.PROCORE_CLIENT_ID,
      clientSecret: env.PROCORE_CLIENT_SECRET,
      companyId: env.PROCORE_COMPANY_ID,
      webhookSecret: env.PROCORE_WEBHOOK_SECRET,
      webhookSecretPrevious: env.PROCORE_WEBHOOK_SECRET_PREVIOUS,
      webhookRetentionDays: env.WEBHOOK_RETENTION_DAYS ?? 30,
      projectIds: (env.PROCORE_PROJECT_IDS ?? '')
        .split(',')
        .map((id) => id.trim())
        .filter(Boolean)
        .map(Number),
      budgetViewId: env.PROCORE_BUDGET_VIEW_ID,
      revisedColumn: env.PROCORE_REVISED_COLUMN ?? 'Revised Budget',
      perPage: env.PROCORE_PER_PAGE ?? 1000,
      timeoutMs: env.PROCORE_TIMEOUT_MS ?? 30000,
      oauth:
        env.PROCORE_OAUTH_CLIENT_ID && env.PROCORE_OAUTH_CLIENT_SECRET
          ? { clientId: env.PROCORE_OAUTH_CLIENT_ID, clientSecret: env.PROCORE_OAUTH_CLIENT_SECRET }
          : undefined,
    },
    spectrum: {
      url: env.SPECTRUM_URL.replace(/\/+$/, ''),
      authorizationId: env.SPECTRUM_AUTHORIZATION_ID,
      companyCode: env.SPECTRUM_COMPANY_CODE,
      auth: env.SPECTRUM_AUTH ?? 'none',
      clientId: env.SPECTRUM_CLIENT_ID,
      clientSecret: env.SPECTRUM_CLIENT_SECRET,
      transport: env.SPECTRUM_TRANSPORT ?? 'soap',
      exportDir: env.SPECTRUM_EXPORT_DIR,
      fileImportWaitMs: parseDuration(env.SPECTRUM_FILE_IMPORT_WAIT ?? '24h'),
      concurrency: env.SPECTRUM_CONCURRENCY ?? 4,
      timeoutMs: env.SPECTRUM_TIMEOUT_MS ?? 60000,
      priceMethodCode: env.SPECTRUM_PRICE_METHOD_CODE ?? 'J',
      costTypes: env.SPECTRUM_COST_TYPES
        ? new Set(env.SPECTRUM_COST_TYPES.split(',').map((code) => code.trim().toUpperCase()).filter(Boolean))
        : null,
    },
    mappingFile: env.MAPPING_FILE,
    reconcileTolerance: toCents(env.RECONCILE_TOLERANCE ?? '0.00'),
    requireIndependentApprover: env.REQUIRE_INDEPENDENT_APPROVER ?? false,
    security: {
      allowInsecureHttp: env.ALLOW_INSECURE_HTTP ?? false,
      trustProxy: trustProxyOf(env.TRUST_PROXY),
      authFailuresPerMinute: env.RATE_LIMIT_AUTH_FAILURES ?? 20,
      fanOutPerMinute: env.RATE_LIMIT_FAN_OUT ?? 30,
    },
    mail: {
      smtpUrl: env.SMTP_URL,
      from: env.MAIL_FROM ?? 'Procore ERP Connector <erp-connector@localhost>',
    },
    console: {
      sessionIdleMs: (env.CONSOLE_SESSION_IDLE_MINUTES ?? 60) * 60_000,
      sessionMaxMs: (env.CONSOLE_SESSION_MAX_HOURS ?? 12) * 3_600_000,
    },
    schedules,
  };
}

/** `24h`, `90m`, `3600s`, `500ms`, or bare seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 's'] ?? 1000;
  return Number(match[1]) * unit;
}

function firesEver(expression: string, timeZone: string): boolean {
  try {
    new CronTime(expression, timeZone).sendAt();
    return true;
  } catch {
    return false;
  }
}

function isUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * `scheme://user:pa/ss@host/db`: a `/`, `#`, `?` or `@` before the URL's last `@` ends the
 * authority early, so the URL names another host (`user`, port `pa`) or none. URL parsers do not
 * say so (some read it as a path or a fragment), hence this look at the text itself.
 */
export function hasUnencodedCredentials(url: string): boolean {
  const rest = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const at = rest.lastIndexOf('@');
  return at > 0 && /[/?#@]/.test(rest.slice(0, at));
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Procore and Spectrum are reached over https://: their credentials and the company's budgets must
 * not cross a network in clear. Plain http:// is taken only to this machine (a tunnel, a local
 * stand-in) or with ALLOW_INSECURE_HTTP=true. (SMTP: see MailTransport's `requireTls`.)
 */
function insecureUrls(raw: Record<string, string | undefined>, allowed: boolean): string[] {
  if (allowed) return [];
  const problems: string[] = [];
  for (const name of ['PROCORE_API_URL', 'PROCORE_LOGIN_URL', 'SPECTRUM_URL']) {
    const value = raw[name]?.trim();
    if (!value || !/^http:\/\//i.test(value)) continue;
    let host: string;
    try {
      host = new URL(value).hostname;
    } catch {
      continue; // the format rule reports it
    }
    if (!isLoopbackHost(host)) {
      problems.push(`${name} uses http:// to a host other than this machine; use https://, or set ALLOW_INSECURE_HTTP=true (e.g. inside a private network)`);
    }
  }
  return problems;
}

/** localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

function trustProxyOf(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((part) => part.trim()).join(',');
}
