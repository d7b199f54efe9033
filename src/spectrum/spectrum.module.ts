import { Module } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { RUNTIME_OPTIONS, RuntimeOptions } from '../config/runtime-options';
import { ProcessShutdown, ProcessShutdownModule } from '../lifecycle/process-shutdown';
import { spectrumClientOptionsFromConfig } from './client/spectrum-client.options';
import { SpectrumSemaphore } from './client/spectrum-concurrency';
import { DEFAULT_RETRY_POLICY, RetryPolicy } from './client/spectrum-retry';
import { SpectrumSoapClient } from './client/spectrum-soap.client';
import { FileDriver } from './drivers/file.driver';
import { SoapDriver } from './drivers/soap.driver';
import { SPECTRUM_DRIVER, SpectrumDriver } from './drivers/spectrum-driver';
import { MetricsService } from '../observability/metrics.service';
import { ObservabilityModule } from '../observability/observability.module';
import { spectrumCallObserver, SpectrumPermitMetrics } from './spectrum-metrics';

/**
 * Six attempts per call instead of the client's four. Spectrum's intermittent "Error executing Web
 * Service" fault is identical every time; a call that meets it on every attempt stops the export
 * run (the row stays pending and the queue retries with backoff): at a 20 % fault rate four
 * attempts would do that once in 625 calls, six attempts once in 15 625.
 */
export const EXPORT_RETRY_POLICY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, attempts: 6 };

/** Lease of a concurrency permit. */
const PERMIT_LEASE_MS = 30_000;

/** The retry policy of Spectrum calls in this process: EXPORT_RETRY_POLICY, its delays scaled (tests shorten them). */
export function spectrumRetryPolicy(backoffScale: number): RetryPolicy {
  return {
    attempts: EXPORT_RETRY_POLICY.attempts,
    baseDelayMs: Math.max(0, Math.round(EXPORT_RETRY_POLICY.baseDelayMs * backoffScale)),
    maxDelayMs: Math.max(0, Math.round(EXPORT_RETRY_POLICY.maxDelayMs * backoffScale)),
  };
}

/** The one place SPECTRUM_TRANSPORT is read: the driver every export and reconciliation uses. */
export function chooseSpectrumDriver(config: AppConfig, client: SpectrumSoapClient, semaphore: SpectrumSemaphore): SpectrumDriver {
  return config.spectrum.transport === 'file' ? new FileDriver(config) : new SoapDriver(config, client, semaphore);
}

/**
 * The Spectrum client, the cross-process concurrency semaphore and the export driver in force
 * (SPECTRUM_TRANSPORT, chosen here once), built from AppConfig and the process's RuntimeOptions
 * (the semaphore's keys live under the queue prefix, so deployments — and tests — sharing a Redis
 * never share permits). The exporter, the reconciliation and the preview share them. On SIGTERM the
 * client starts no new call; the client and the semaphore close their connections at application
 * shutdown, after the workers have drained (never under a call in flight).
 */
@Module({
  imports: [ObservabilityModule, ProcessShutdownModule],
  providers: [
    {
      provide: SpectrumSoapClient,
      useFactory: (config: AppConfig, runtime: RuntimeOptions, metrics: MetricsService, shutdown: ProcessShutdown) => {
        const client = new SpectrumSoapClient(
          spectrumClientOptionsFromConfig(config.spectrum, { retry: spectrumRetryPolicy(runtime.backoffScale), observer: spectrumCallObserver(metrics) }),
        );
        // SIGTERM: calls in flight end, no new one starts (graceful shutdown).
        shutdown.onStop(() => client.stopNewCalls());
        return client;
      },
      inject: [AppConfig, RUNTIME_OPTIONS, MetricsService, ProcessShutdown],
    },
    {
      provide: SpectrumSemaphore,
      useFactory: (config: AppConfig, runtime: RuntimeOptions) =>
        new SpectrumSemaphore({
          redis: config.redisUrl,
          keyPrefix: `${runtime.queuePrefix}:spectrum:concurrency`,
          limit: config.spectrum.concurrency,
          leaseMs: PERMIT_LEASE_MS,
        }),
      inject: [AppConfig, RUNTIME_OPTIONS],
    },
    { provide: SPECTRUM_DRIVER, useFactory: chooseSpectrumDriver, inject: [AppConfig, SpectrumSoapClient, SpectrumSemaphore] },
    SpectrumPermitMetrics,
  ],
  exports: [SpectrumSoapClient, SpectrumSemaphore, SPECTRUM_DRIVER],
})
export class SpectrumModule {}
