import { AppConfig } from '../../config/app-config';
import type { SharedRateBudget } from './shared-rate-budget';

export interface ProcoreClientOptions {
  /** API base, e.g. `https://api.procore.com`. */
  apiUrl: string;
  /** Login base, e.g. `https://login.procore.com`. */
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  companyId: number;
  /** Page size of v1 lists (1–2000, Procore's recommended maximum). Default 1000. v2.0 lists ask
   * for at most 100, Procore's maximum there. */
  perPage?: number;
  /** Per HTTP request, headers and body included. Default 30000. */
  timeoutMs?: number;
  /** Sends per request, the first included, for transient failures. Default 6. */
  maxAttempts?: number;
  /** Backoff base: the n-th retry waits a random time up to base · 2^(n−1). Default 500. */
  baseDelayMs?: number;
  /** Backoff ceiling. Default 30000. */
  maxDelayMs?: number;
  /** Longest single wait for a rate-limit reset or a `Retry-After`; beyond it the call fails with
   * a transient error (e.g. the hourly bucket is spent) instead of blocking. Default 300000. */
  maxWaitMs?: number;
  /** Requests kept in hand before waiting for the rate-limit reset. Default 0. */
  rateLimitReserve?: number;
  /** Refresh the access token this long before it expires (at most a tenth of its lifetime).
   * Default 60000. */
  tokenRefreshMarginMs?: number;
  /** How the rate limiter waits for a window to reset (tests pass a fake clock's). */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  /** The backoff's jitter. */
  random?: () => number;
  fetch?: typeof fetch;
  userAgent?: string;
  /** The rate-limit budget shared with the deployment's other processes (RedisRateBudget); without
   * it, this client paces itself on what its own answers say. */
  sharedRateBudget?: SharedRateBudget;
}

/** The options with every default applied and checked. */
export interface ResolvedProcoreClientOptions {
  apiUrl: string;
  loginUrl: string;
  clientId: string;
  clientSecret: string;
  companyId: number;
  perPage: number;
  timeoutMs: number;
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  maxWaitMs: number;
  rateLimitReserve: number;
  tokenRefreshMarginMs: number;
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  random: () => number;
  fetch: typeof fetch;
  userAgent?: string;
  sharedRateBudget?: SharedRateBudget;
}

/** Structurally compatible with Nest's `Logger`. */
export interface ProcoreLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export const NO_LOGGER: ProcoreLogger = { log() {}, warn() {}, error() {}, debug() {} };
/** Procore's recommended largest page for v1 lists (its pagination guide). */
export const MAX_PER_PAGE = 2000;
/** v2.0 lists allow at most 100 per page (Procore's announcement of the v2.0 REST API). */
export const V2_MAX_PER_PAGE = 100;

/** Applies the defaults; throws naming the first option that is wrong. */
export function resolveProcoreClientOptions(options: ProcoreClientOptions): ResolvedProcoreClientOptions {
  const apiUrl = baseUrl(options.apiUrl, 'apiUrl');
  const loginUrl = baseUrl(options.loginUrl, 'loginUrl');
  if (!options.clientId || !options.clientSecret) {
    throw new Error('ProcoreClient: clientId and clientSecret are required');
  }
  const perPage = positiveInteger(options.perPage ?? 1000, 'perPage');
  if (perPage > MAX_PER_PAGE) throw new Error(`ProcoreClient: perPage must be at most ${MAX_PER_PAGE}`);
  const baseDelayMs = Math.max(0, options.baseDelayMs ?? 500);
  return {
    apiUrl,
    loginUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    companyId: positiveInteger(options.companyId, 'companyId'),
    perPage,
    timeoutMs: positiveInteger(options.timeoutMs ?? 30000, 'timeoutMs'),
    maxAttempts: positiveInteger(options.maxAttempts ?? 6, 'maxAttempts'),
    baseDelayMs,
    maxDelayMs: Math.max(baseDelayMs, options.maxDelayMs ?? 30000),
    maxWaitMs: Math.max(0, options.maxWaitMs ?? 300000),
    rateLimitReserve: Math.max(0, options.rateLimitReserve ?? 0),
    tokenRefreshMarginMs: Math.max(0, options.tokenRefreshMarginMs ?? 60000),
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    now: options.now ?? Date.now,
    random: options.random ?? Math.random,
    fetch: options.fetch ?? fetch,
    userAgent: options.userAgent,
    sharedRateBudget: options.sharedRateBudget,
  };
}

/** ProcoreClient options from the configuration (only what the client needs: no webhook secret). */
export function procoreClientOptions(config: AppConfig, overrides: Partial<ProcoreClientOptions> = {}): ProcoreClientOptions {
  const { apiUrl, loginUrl, clientId, clientSecret, companyId, perPage, timeoutMs } = config.procore;
  return { apiUrl, loginUrl, clientId, clientSecret, companyId, perPage, timeoutMs, userAgent: 'procore-spectrum-connector', ...overrides };
}

export function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`ProcoreClient: ${name} must be a positive whole number, got ${String(value)}`);
  }
  return value;
}

function baseUrl(value: string, name: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`ProcoreClient: ${name} must be an absolute http(s) URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`ProcoreClient: ${name} must be an absolute http(s) URL`);
  }
  return value.replace(/\/+$/, '');
}
