import { LoggerService, LogLevel } from '@nestjs/common';
import { storage } from 'nestjs-pino/storage';
import pino, { DestinationStream, Level, LevelWithSilent, Logger as Pino } from 'pino';
import type { AppConfig } from '../config/app-config';
import { parseSmtpUrl } from '../config/smtp-url';
import { Scrubber } from './scrubber';

/**
 * The process's logger: pino writing one JSON object per line to stdout (LOG_FORMAT=json, the
 * default), or readable lines for a person at a terminal (LOG_FORMAT=pretty). Every line goes
 * through the Scrubber, so no configured secret, credential in a URL or bearer token reaches the
 * output. Lines written while a request or a job runs carry its ids (log-context.ts).
 */
export interface RootLoggerSettings {
  format: 'json' | 'pretty';
  level: LevelWithSilent;
  /** APP_ROLE, on every line (several processes often share one log stream). */
  role: string;
  /** Values never to appear in the output (see secretsOf). */
  secrets: string[];
  /** Where lines go; default stdout. Tests capture the output with their own stream. */
  stream?: DestinationStream;
}

export function createRootLogger(settings: RootLoggerSettings): Pino {
  const scrubber = new Scrubber(settings.secrets);
  const options: pino.LoggerOptions = {
    level: settings.level,
    base: { pid: process.pid, role: settings.role },
    timestamp: pino.stdTimeFunctions.isoTime,
    messageKey: 'msg',
    // Errors are already plain, scrubbed objects (Scrubber.fields): pino's serializer would retype them.
    serializers: { err: (error: unknown) => error },
    hooks: {
      // Messages (and printf arguments) are scrubbed; objects are scrubbed by formatters.log.
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? scrubber.text(arg) : arg)) as Parameters<typeof method>);
      },
    },
    formatters: {
      ...(settings.format === 'json' ? { level: (label: string) => ({ level: label }) } : {}),
      log: (object) => scrubber.fields(object),
    },
  };
  if (settings.stream) return pino(options, settings.stream);
  if (settings.format === 'pretty') {
    // Loaded only when asked for: a development aid, not on the production path.
    const pretty = require('pino-pretty') as typeof import('pino-pretty');
    return pino(options, pretty({ colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,role', sync: true }));
  }
  return pino(options, pino.destination({ dest: 1, sync: true }));
}

/**
 * The configuration's secrets: webhook secrets, client secrets, the Spectrum authorization id, the
 * passwords inside SMTP_URL, DATABASE_URL and REDIS_URL. Short values are left out (they would
 * blank ordinary words); those are caught by the patterns of the Scrubber instead.
 */
export function secretsOf(config: AppConfig): string[] {
  const values = [
    config.procore.clientSecret,
    config.procore.webhookSecret,
    config.procore.webhookSecretPrevious,
    config.procore.oauth?.clientSecret,
    config.spectrum.clientSecret,
    config.spectrum.authorizationId,
    passwordOf(config.databaseUrl),
    passwordOf(config.redisUrl),
  ];
  try {
    values.push(parseSmtpUrl(config.mail.smtpUrl).auth?.pass);
  } catch {
    // refused at start by the configuration
  }
  return values.filter((value): value is string => typeof value === 'string' && value.length >= 8);
}

function passwordOf(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password || undefined;
  } catch {
    return undefined;
  }
}

const NEST_LEVELS: Record<LogLevel, Level> = { verbose: 'trace', debug: 'debug', log: 'info', warn: 'warn', error: 'error', fatal: 'fatal' };
const ORDER: Level[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

/**
 * The pino level for Nest's logger option: `false` silences, a list of Nest levels keeps its
 * lowest (`['error']` → error, `['log', 'warn', 'error']` → info), none leaves LOG_LEVEL in force.
 */
export function levelFor(levels: LogLevel[] | false | undefined, configured: LevelWithSilent): LevelWithSilent {
  if (levels === false) return 'silent';
  if (!levels) return configured;
  const wanted = levels.map((level) => NEST_LEVELS[level]).filter(Boolean);
  if (!wanted.length) return 'silent';
  return ORDER.find((level) => wanted.includes(level))!;
}

/** Nest's start-up chatter (a line per module and route): kept for LOG_LEVEL=debug. */
const START_UP_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication']);

/**
 * Nest's LoggerService on pino: every `new Logger(context)` of the application writes here. Inside
 * a request or a job the line goes through that request's or job's logger (its ids bound);
 * elsewhere through the process's root logger.
 */
export class ConnectorLogger implements LoggerService {
  constructor(readonly root: Pino) {}

  log(message: unknown, ...params: unknown[]): void {
    this.write('info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  private write(level: Level, message: unknown, params: unknown[]): void {
    const rest = [...params];
    // Nest passes (message, ...optional, context) and for errors (message, stack?, context).
    const last = rest[rest.length - 1];
    const context = typeof last === 'string' && !isStack(last) ? (rest.pop() as string) : undefined;
    if (context && START_UP_CONTEXTS.has(context) && level === 'info') level = 'debug';
    const logger = storage.getStore()?.logger ?? this.root;
    if (!logger.isLevelEnabled(level)) return;
    const fields: Record<string, unknown> = context ? { context } : {};
    const stack = rest.find((param): param is string => typeof param === 'string' && isStack(param));
    const error = [message, ...rest].find((param): param is Error => param instanceof Error);
    if (error) fields.err = error;
    else if (stack) fields.err = { stack };
    if (message instanceof Error) {
      logger[level](fields, message.message);
    } else if (message !== null && typeof message === 'object') {
      logger[level]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      logger[level](fields, String(message));
    }
  }
}

function isStack(text: string): boolean {
  return /\n\s+at /.test(text);
}
