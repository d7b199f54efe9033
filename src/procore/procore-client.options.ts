import { AppConfig } from '../config/app-config';
import { ProcoreClientOptions } from './procore-client';

/** ProcoreClient options from the configuration (only what the client needs: no webhook secret). */
export function procoreClientOptions(config: AppConfig, overrides: Partial<ProcoreClientOptions> = {}): ProcoreClientOptions {
  const { apiUrl, loginUrl, clientId, clientSecret, companyId, perPage, timeoutMs } = config.procore;
  return { apiUrl, loginUrl, clientId, clientSecret, companyId, perPage, timeoutMs, userAgent: 'procore-spectrum-connector', ...overrides };
}
