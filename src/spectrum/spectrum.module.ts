import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { spectrumClientOptionsFromConfig } from './client/spectrum-client.options';
import { SpectrumSemaphore } from './client/spectrum-concurrency';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from './client/spectrum-retry';
import { SpectrumSoapClient } from './client/spectrum-soap.client';
import { FileDriver } from './drivers/file.driver';
import { SoapDriver } from './drivers/soap.driver';
import { SPECTRUM_DRIVER, SpectrumDriver } from './drivers/spectrum-driver';

export interface SpectrumModuleOptions {
  /** Redis key prefix of the concurrency semaphore. Default `connector:spectrum`. */
  keyPrefix?: string;
  /** Lease of a concurrency permit. Default 30 000 ms. */
  permitLeaseMs?: number;
  /** Retries of transient failures per call. Default: EXPORT_RETRY_POLICY. */
  retry?: Partial<RetryPolicy>;
  /** Multiplies the retry delays (tests use a small number, like the queue's backoffScale). */
  backoffScale?: number;
}

/**
 * Six attempts per call instead of the client's four. Spectrum's intermittent "Error executing Web
 * Service" fault is identical every time; a call that meets it on every attempt stops the export
 * run (the row stays pending and the queue retries with backoff): at a 20 % fault rate four
 * attempts would do that once in 625 calls, six attempts once in 15 625.
 */
export const EXPORT_RETRY_POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, attempts: 6 };

/** The one place SPECTRUM_TRANSPORT is read: the driver every export and reconciliation uses. */
export function chooseSpectrumDriver(config: AppConfig, client: SpectrumSoapClient, semaphore: SpectrumSemaphore): SpectrumDriver {
  return config.spectrum.transport === 'file' ? new FileDriver(config) : new SoapDriver(config, client, semaphore);
}

/**
 * The Spectrum client, the cross-process concurrency semaphore and the export driver in force
 * (SPECTRUM_TRANSPORT, chosen here once), built from AppConfig, for the whole application (global:
 * the exporter, the reconciliation and the preview share them). The client and the semaphore close
 * their connections when the application shuts down.
 */
@Module({})
export class SpectrumModule {
  static forRoot(options: SpectrumModuleOptions = {}): DynamicModule {
    const scale = options.backoffScale ?? 1;
    const policy = { ...EXPORT_RETRY_POLICY, ...options.retry };
    const retry: RetryPolicy = {
      attempts: policy.attempts,
      baseDelayMs: Math.max(0, Math.round(policy.baseDelayMs * scale)),
      maxDelayMs: Math.max(0, Math.round(policy.maxDelayMs * scale)),
    };
    return {
      module: SpectrumModule,
      global: true,
      providers: [
        {
          provide: SpectrumSoapClient,
          useFactory: (config: AppConfig) => new SpectrumSoapClient(spectrumClientOptionsFromConfig(config.spectrum, { retry })),
          inject: [AppConfig],
        },
        {
          provide: SpectrumSemaphore,
          useFactory: (config: AppConfig) =>
            new SpectrumSemaphore({
              redis: config.redisUrl,
              keyPrefix: `${options.keyPrefix ?? 'connector:spectrum'}:concurrency`,
              limit: config.spectrum.concurrency,
              leaseMs: options.permitLeaseMs ?? 30_000,
            }),
          inject: [AppConfig],
        },
        {
          provide: SPECTRUM_DRIVER,
          useFactory: chooseSpectrumDriver,
          inject: [AppConfig, SpectrumSoapClient, SpectrumSemaphore],
        },
      ],
      exports: [SpectrumSoapClient, SpectrumSemaphore, SPECTRUM_DRIVER],
    };
  }
}
