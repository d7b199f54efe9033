import { plainToInstance, Transform } from 'class-transformer';
import {
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  validateSync,
  ValidateIf,
  ValidationError,
} from 'class-validator';

const trimmed = () =>
  Transform(({ value }) => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined));
const integer = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    return /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  });

/** Express's "trust proxy": true/false, a hop count, or addresses, subnets and the names loopback/linklocal/uniquelocal. */
const TRUST_PROXY_PATTERN = /^(true|false|\d{1,2}|[0-9A-Za-z.:/]{1,64}(\s*,\s*[0-9A-Za-z.:/]{1,64}){0,31})$/;
/** `true` or `false` (any case); left out or empty: the default. Anything else is refused. */
const flag = () =>
  Transform(({ value }) => {
    if (typeof value !== 'string' || value.trim() === '') return undefined;
    const text = value.trim().toLowerCase();
    return text === 'true' ? true : text === 'false' ? false : value;
  });

const URL_PATTERN = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const DECIMAL_PATTERN = /^\d+(\.\d{1,2})?$/;
const DURATION_PATTERN = /^\d+(ms|s|m|h|d)?$/;
const ID_LIST_PATTERN = /^\s*(\d+\s*(,\s*\d+\s*)*)?$/;
/** Cost types: 1–3 letters or digits each (Spectrum's Cost_Type is 3 characters), comma-separated. */
const COST_TYPE_LIST_PATTERN = /^\s*[A-Za-z0-9]{1,3}\s*(,\s*[A-Za-z0-9]{1,3}\s*)*$/;

/**
 * The environment as the process receives it. Each property is one variable, documented with its
 * default in config/connector.env.example; `loadAppConfig` turns a valid one into the typed `AppConfig`.
 */
export class EnvironmentVariables {
  // core
  @integer() @IsOptional() @IsInt({ message: 'PORT must be a whole number from 1 to 65535' })
  @Min(1, { message: 'PORT must be a whole number from 1 to 65535' }) @Max(65535, { message: 'PORT must be a whole number from 1 to 65535' })
  PORT?: number;

  @trimmed() @IsNotEmpty({ message: 'DATABASE_URL is required (postgres://user@host:5432/db)' })
  @Matches(/^postgres(ql)?:\/\/\S+$/, { message: 'DATABASE_URL must be a postgres:// URL' })
  DATABASE_URL: string;

  @trimmed() @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// URL' })
  REDIS_URL?: string;

  @trimmed() @IsOptional() @Matches(URL_PATTERN, { message: 'PUBLIC_URL must be an http(s) URL' })
  PUBLIC_URL?: string;

  @trimmed() @IsOptional() @IsIn(['all', 'api', 'worker'], { message: 'APP_ROLE must be all, api or worker' })
  APP_ROLE?: 'all' | 'api' | 'worker';

  // logs
  @trimmed() @IsOptional() @IsIn(['json', 'pretty'], { message: 'LOG_FORMAT must be json or pretty' })
  LOG_FORMAT?: 'json' | 'pretty';

  @trimmed() @IsOptional()
  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace'], { message: 'LOG_LEVEL must be fatal, error, warn, info, debug or trace' })
  LOG_LEVEL?: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

  // Where a worker (APP_ROLE=worker) serves /health/live, /health/ready and /metrics; unset: nowhere.
  @integer() @IsOptional() @IsInt({ message: 'HEALTH_PORT must be a whole number from 1 to 65535' })
  @Min(1, { message: 'HEALTH_PORT must be a whole number from 1 to 65535' }) @Max(65535, { message: 'HEALTH_PORT must be a whole number from 1 to 65535' })
  HEALTH_PORT?: number;

  @flag() @IsOptional() @IsBoolean({ message: 'MIGRATE_ON_START must be true or false' })
  MIGRATE_ON_START?: boolean;

  // Procore
  @trimmed() @IsOptional() @Matches(URL_PATTERN, { message: 'PROCORE_API_URL must be an http(s) URL' })
  PROCORE_API_URL?: string;

  @trimmed() @IsOptional() @Matches(URL_PATTERN, { message: 'PROCORE_LOGIN_URL must be an http(s) URL' })
  PROCORE_LOGIN_URL?: string;

  @trimmed() @IsNotEmpty({ message: 'PROCORE_CLIENT_ID is required' }) @IsString()
  PROCORE_CLIENT_ID: string;

  @trimmed() @IsNotEmpty({ message: 'PROCORE_CLIENT_SECRET is required' }) @IsString()
  PROCORE_CLIENT_SECRET: string;

  @integer() @IsDefined({ message: 'PROCORE_COMPANY_ID is required (the company id in Procore, a whole number)' })
  @IsInt({ message: 'PROCORE_COMPANY_ID must be a whole number (the company id in Procore, 1 or more)' })
  @Min(1, { message: 'PROCORE_COMPANY_ID must be a whole number (the company id in Procore, 1 or more)' })
  PROCORE_COMPANY_ID: number;

  // A webhook secret is the only thing between the internet and the ingestion queue: 32+ characters.
  @trimmed() @IsNotEmpty({ message: 'PROCORE_WEBHOOK_SECRET is required' })
  @MinLength(32, { message: 'PROCORE_WEBHOOK_SECRET must be at least 32 characters (a long random value)' })
  @MaxLength(1024, { message: 'PROCORE_WEBHOOK_SECRET is longer than 1024 characters' })
  PROCORE_WEBHOOK_SECRET: string;

  // The secret being rotated out, accepted too while set: the same 32-character rule (a short
  // secret accepted during a rotation would be as open to guessing as a short current one).
  @trimmed() @IsOptional()
  @MinLength(32, { message: 'PROCORE_WEBHOOK_SECRET_PREVIOUS must be at least 32 characters (rotate a shorter one out at once: leave it empty)' })
  @MaxLength(1024, { message: 'PROCORE_WEBHOOK_SECRET_PREVIOUS is longer than 1024 characters' })
  PROCORE_WEBHOOK_SECRET_PREVIOUS?: string;

  @integer() @IsOptional() @IsInt({ message: 'WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 3650' })
  @Min(1, { message: 'WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 3650' })
  @Max(3650, { message: 'WEBHOOK_RETENTION_DAYS must be a whole number of days from 1 to 3650' })
  WEBHOOK_RETENTION_DAYS?: number;

  @IsOptional() @Matches(ID_LIST_PATTERN, { message: 'PROCORE_PROJECT_IDS must be comma-separated project ids' })
  PROCORE_PROJECT_IDS?: string;

  /** "Sign in with Procore" for the console: a Procore app of the authorization-code kind (optional). */
  @ValidateIf((env: EnvironmentVariables) => !!env.PROCORE_OAUTH_CLIENT_SECRET)
  @trimmed() @IsNotEmpty({ message: 'PROCORE_OAUTH_CLIENT_ID is required when PROCORE_OAUTH_CLIENT_SECRET is set' })
  PROCORE_OAUTH_CLIENT_ID?: string;

  @ValidateIf((env: EnvironmentVariables) => !!env.PROCORE_OAUTH_CLIENT_ID)
  @trimmed() @IsNotEmpty({ message: 'PROCORE_OAUTH_CLIENT_SECRET is required when PROCORE_OAUTH_CLIENT_ID is set' })
  PROCORE_OAUTH_CLIENT_SECRET?: string;

  @integer() @IsOptional() @IsInt({ message: 'PROCORE_BUDGET_VIEW_ID must be a whole number' }) @Min(1)
  PROCORE_BUDGET_VIEW_ID?: number;

  // Procore recommends at most 2,000 per page (v1 lists); v2.0 lists always ask for at most 100.
  @integer() @IsOptional() @IsInt({ message: 'PROCORE_PER_PAGE must be a whole number from 1 to 2000' })
  @Min(1, { message: 'PROCORE_PER_PAGE must be a whole number from 1 to 2000' })
  @Max(2000, { message: 'PROCORE_PER_PAGE must be a whole number from 1 to 2000' })
  PROCORE_PER_PAGE?: number;

  @trimmed() @IsOptional() @MaxLength(200, { message: 'PROCORE_REVISED_COLUMN is longer than 200 characters' })
  @Matches(/[\p{L}\p{N}]/u, { message: 'PROCORE_REVISED_COLUMN must name a budget view column (it holds no letter or digit)' })
  PROCORE_REVISED_COLUMN?: string;

  @integer() @IsOptional() @IsInt({ message: 'PROCORE_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(100) @Max(600000)
  PROCORE_TIMEOUT_MS?: number;

  // Spectrum
  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_URL is required (e.g. https://host:8482)' })
  @Matches(URL_PATTERN, { message: 'SPECTRUM_URL must be an http(s) URL' })
  SPECTRUM_URL: string;

  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_AUTHORIZATION_ID is required' })
  @MaxLength(20, { message: 'SPECTRUM_AUTHORIZATION_ID is at most 20 characters' })
  SPECTRUM_AUTHORIZATION_ID: string;

  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_COMPANY_CODE is required' })
  @MaxLength(3, { message: 'SPECTRUM_COMPANY_CODE is at most 3 characters' })
  SPECTRUM_COMPANY_CODE: string;

  @trimmed() @IsOptional() @IsIn(['none', 'bearer', 'basic'], { message: 'SPECTRUM_AUTH must be none, bearer or basic' })
  SPECTRUM_AUTH?: 'none' | 'bearer' | 'basic';

  @ValidateIf((env: EnvironmentVariables) => env.SPECTRUM_AUTH === 'bearer')
  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_CLIENT_ID is required when SPECTRUM_AUTH=bearer' })
  SPECTRUM_CLIENT_ID?: string;

  @ValidateIf((env: EnvironmentVariables) => env.SPECTRUM_AUTH === 'bearer')
  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_CLIENT_SECRET is required when SPECTRUM_AUTH=bearer' })
  SPECTRUM_CLIENT_SECRET?: string;

  @trimmed() @IsOptional() @IsIn(['soap', 'file'], { message: 'SPECTRUM_TRANSPORT must be soap or file' })
  SPECTRUM_TRANSPORT?: 'soap' | 'file';

  @ValidateIf((env: EnvironmentVariables) => env.SPECTRUM_TRANSPORT === 'file')
  @trimmed() @IsNotEmpty({ message: 'SPECTRUM_EXPORT_DIR is required when SPECTRUM_TRANSPORT=file' })
  SPECTRUM_EXPORT_DIR?: string;

  @trimmed() @IsOptional()
  @Matches(DURATION_PATTERN, { message: 'SPECTRUM_FILE_IMPORT_WAIT must be a duration like 24h, 90m or 3600s' })
  SPECTRUM_FILE_IMPORT_WAIT?: string;

  @integer() @IsOptional() @IsInt({ message: 'SPECTRUM_CONCURRENCY must be a whole number from 1 to 64' })
  @Min(1, { message: 'SPECTRUM_CONCURRENCY must be a whole number from 1 to 64' })
  @Max(64, { message: 'SPECTRUM_CONCURRENCY must be a whole number from 1 to 64' })
  SPECTRUM_CONCURRENCY?: number;

  @integer() @IsOptional() @IsInt({ message: 'SPECTRUM_TIMEOUT_MS must be a whole number of milliseconds' })
  @Min(100) @Max(600000)
  SPECTRUM_TIMEOUT_MS?: number;

  @trimmed() @IsOptional() @IsIn(['F', 'T', 'C', 'U', 'J'], { message: 'SPECTRUM_PRICE_METHOD_CODE must be F, T, C, U or J' })
  SPECTRUM_PRICE_METHOD_CODE?: string;

  @trimmed() @IsOptional()
  @Matches(COST_TYPE_LIST_PATTERN, { message: 'SPECTRUM_COST_TYPES must be a comma-separated list of cost types of 1 to 3 letters or digits, like L,M,S,E,O' })
  SPECTRUM_COST_TYPES?: string;

  // mapping and checks
  @trimmed() @IsOptional() @IsString()
  MAPPING_FILE?: string;

  @trimmed() @IsOptional()
  @Matches(DECIMAL_PATTERN, { message: 'RECONCILE_TOLERANCE must be a non-negative amount like 0.00 or 1.50' })
  RECONCILE_TOLERANCE?: string;

  // the approver console
  @integer() @IsOptional() @IsInt({ message: 'CONSOLE_SESSION_IDLE_MINUTES must be a whole number from 1 to 1440' })
  @Min(1, { message: 'CONSOLE_SESSION_IDLE_MINUTES must be a whole number from 1 to 1440' })
  @Max(1440, { message: 'CONSOLE_SESSION_IDLE_MINUTES must be a whole number from 1 to 1440' })
  CONSOLE_SESSION_IDLE_MINUTES?: number;

  @integer() @IsOptional() @IsInt({ message: 'CONSOLE_SESSION_MAX_HOURS must be a whole number from 1 to 720' })
  @Min(1, { message: 'CONSOLE_SESSION_MAX_HOURS must be a whole number from 1 to 720' })
  @Max(720, { message: 'CONSOLE_SESSION_MAX_HOURS must be a whole number from 1 to 720' })
  CONSOLE_SESSION_MAX_HOURS?: number;

  // mail and schedules
  @trimmed() @IsNotEmpty({ message: 'SMTP_URL is required (smtp://host:port or smtps://user:pass@host:465)' })
  @Matches(/^smtps?:\/\/\S+$/, { message: 'SMTP_URL must be an smtp:// or smtps:// URL' })
  SMTP_URL: string;

  @trimmed() @IsOptional() @IsString()
  MAIL_FROM?: string;

  @trimmed() @IsOptional() @IsString()
  DAILY_SUMMARY_CRON?: string;

  @trimmed() @IsOptional() @IsString()
  DAILY_SUMMARY_TZ?: string;

  @trimmed() @IsOptional() @IsString()
  POLL_CRON?: string;

  @trimmed() @IsOptional() @IsString()
  RECONCILE_CRON?: string;

  @trimmed() @IsOptional() @IsString()
  USER_SYNC_CRON?: string;

  @integer() @IsOptional() @IsInt({ message: 'STUCK_AFTER_MINUTES must be a whole number of minutes' })
  @Min(1) @Max(10080)
  STUCK_AFTER_MINUTES?: number;

  @integer() @IsOptional() @IsInt({ message: 'SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 600000' })
  @Min(1000, { message: 'SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 600000' })
  @Max(600_000, { message: 'SHUTDOWN_TIMEOUT_MS must be a whole number of milliseconds from 1000 to 600000' })
  SHUTDOWN_TIMEOUT_MS?: number;

  @integer() @IsOptional() @IsInt({ message: 'READ_CACHE_MB must be a whole number of megabytes from 0 to 4096' })
  @Min(0, { message: 'READ_CACHE_MB must be a whole number of megabytes from 0 to 4096' })
  @Max(4096, { message: 'READ_CACHE_MB must be a whole number of megabytes from 0 to 4096' })
  READ_CACHE_MB?: number;

  // access
  @flag() @IsOptional() @IsBoolean({ message: 'REQUIRE_INDEPENDENT_APPROVER must be true or false' })
  REQUIRE_INDEPENDENT_APPROVER?: boolean;

  @flag() @IsOptional() @IsBoolean({ message: 'ALLOW_INSECURE_HTTP must be true or false' })
  ALLOW_INSECURE_HTTP?: boolean;

  @trimmed() @IsOptional()
  @Matches(TRUST_PROXY_PATTERN, { message: 'TRUST_PROXY must be true, false, a number of proxies, or comma-separated addresses/subnets (e.g. loopback, 10.0.0.0/8)' })
  TRUST_PROXY?: string;

  @integer() @IsOptional() @IsInt({ message: 'RATE_LIMIT_AUTH_FAILURES must be a whole number from 1 to 100000' })
  @Min(1, { message: 'RATE_LIMIT_AUTH_FAILURES must be a whole number from 1 to 100000' })
  @Max(100000, { message: 'RATE_LIMIT_AUTH_FAILURES must be a whole number from 1 to 100000' })
  RATE_LIMIT_AUTH_FAILURES?: number;

  @integer() @IsOptional() @IsInt({ message: 'RATE_LIMIT_FAN_OUT must be a whole number from 1 to 100000' })
  @Min(1, { message: 'RATE_LIMIT_FAN_OUT must be a whole number from 1 to 100000' })
  @Max(100000, { message: 'RATE_LIMIT_FAN_OUT must be a whole number from 1 to 100000' })
  RATE_LIMIT_FAN_OUT?: number;
}

/** Validates the raw environment; returns the problems (each naming its variable, never a value). */
export function validateEnvironment(raw: Record<string, string | undefined>): {
  env?: EnvironmentVariables;
  problems: string[];
} {
  const env = plainToInstance(EnvironmentVariables, raw, { excludeExtraneousValues: false });
  const errors = validateSync(env, { whitelist: false, forbidUnknownValues: false });
  const problems = errors.flatMap(describe);
  return problems.length ? { problems } : { env, problems };
}

/** One message per variable, naming it: "X is required" when absent, else the rule it breaks. */
function describe(error: ValidationError): string[] {
  const messages = Object.values(error.constraints ?? {});
  const absent = error.value === undefined || error.value === null || error.value === '';
  const required = messages.find((message) => message.includes(' is required'));
  if (absent) return [required ?? `${error.property} is required`];
  const specific = messages.find((message) => !/ (must be a string|should not be empty)$/.test(message)) ?? messages[0];
  return [specific?.includes(error.property) ? specific : `${error.property} is invalid`];
}
