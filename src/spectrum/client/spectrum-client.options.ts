import type { Agent } from 'node:http';
import type { AppConfig } from '../../config/app-config';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from './spectrum-retry';

export type SpectrumAuthMode = 'none' | 'bearer' | 'basic';

/** What the client logs: retries and auth refreshes, never values, secrets or tokens. */
export interface SpectrumLogger {
  warn(message: string): void;
  debug?(message: string): void;
}

/** Told of every call attempt (metrics): its service, duration and, when it failed, the error. */
export interface SpectrumCallObserver {
  attempt(service: string, seconds: number, error?: unknown): void;
}

export interface SpectrumClientOptions {
  /** Base URL, e.g. `https://host:8482`; services are called at `${url}/ws/<Service>`. */
  url: string;
  /** Data Exchange Authorization ID (≤ 20 characters). */
  authorizationId: string;
  /** Spectrum company code (≤ 3 characters). */
  companyCode: string;
  /** Default `none`. `basic` sends `<companyCode>:<authorizationId>`; `bearer` needs the client credentials. */
  auth?: SpectrumAuthMode;
  clientId?: string;
  clientSecret?: string;
  /** Deadline for one HTTP exchange. Default 60 000. */
  timeoutMs?: number;
  /** How many calls may run at once in this process; sizes the keep-alive agent. Default 4. */
  concurrency?: number;
  /** Retries of transient failures (faults, timeouts, network errors, cut-off responses). */
  retry?: Partial<RetryPolicy>;
  /** A keep-alive agent to use instead of the client's own (the client then does not destroy it). */
  agent?: Agent;
  /** Folder holding `<Service>.wsdl`; default the `wsdl` folder next to this file. */
  wsdlDir?: string;
  /** Default `/connect/token`. */
  tokenPath?: string;
  /** Default `spectrumapi`. */
  tokenScope?: string;
  /** Responses larger than this are abandoned. Default 256 MiB. */
  maxResponseBytes?: number;
  logger?: SpectrumLogger;
  observer?: SpectrumCallObserver;
}

export interface ResolvedSpectrumClientOptions
  extends Required<Omit<SpectrumClientOptions, 'clientId' | 'clientSecret' | 'agent' | 'logger' | 'retry' | 'observer'>> {
  clientId?: string;
  clientSecret?: string;
  agent?: Agent;
  logger?: SpectrumLogger;
  observer?: SpectrumCallObserver;
  retry: RetryPolicy;
}

/** Applies defaults and checks the options; throws one Error naming every problem. */
export function resolveSpectrumClientOptions(options: SpectrumClientOptions, defaultWsdlDir: string): ResolvedSpectrumClientOptions {
  const problems: string[] = [];
  const url = (options.url ?? '').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s/]+/.test(url)) problems.push('url must be an http(s) URL such as https://host:8482');
  if (!options.authorizationId) problems.push('authorizationId is required');
  if (!options.companyCode) problems.push('companyCode is required');
  const auth = options.auth ?? 'none';
  if (!['none', 'bearer', 'basic'].includes(auth)) problems.push('auth must be none, bearer or basic');
  if (auth === 'bearer' && (!options.clientId || !options.clientSecret)) {
    problems.push('auth "bearer" needs clientId and clientSecret');
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (!(timeoutMs > 0)) problems.push('timeoutMs must be positive');
  const concurrency = options.concurrency ?? 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) problems.push('concurrency must be a positive integer');
  const retry = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  if (!Number.isInteger(retry.attempts) || retry.attempts < 1) problems.push('retry.attempts must be at least 1');
  if (problems.length) throw new Error(`Invalid Spectrum client options: ${problems.join('; ')}`);
  return {
    url,
    authorizationId: options.authorizationId,
    companyCode: options.companyCode,
    auth,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    timeoutMs,
    concurrency,
    retry,
    agent: options.agent,
    wsdlDir: options.wsdlDir ?? defaultWsdlDir,
    tokenPath: options.tokenPath ?? '/connect/token',
    tokenScope: options.tokenScope ?? 'spectrumapi',
    maxResponseBytes: options.maxResponseBytes ?? 256 * 1024 * 1024,
    logger: options.logger,
    observer: options.observer,
  };
}

/** The client options for the validated application configuration. */
export function spectrumClientOptionsFromConfig(
  config: AppConfig['spectrum'],
  extra: Partial<SpectrumClientOptions> = {},
): SpectrumClientOptions {
  return {
    url: config.url,
    authorizationId: config.authorizationId,
    companyCode: config.companyCode,
    auth: config.auth,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    timeoutMs: config.timeoutMs,
    concurrency: config.concurrency,
    ...extra,
  };
}
