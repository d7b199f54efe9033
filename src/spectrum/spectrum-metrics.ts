import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import type { LedgerEntry, LedgerStore } from './export-ledger';
import type { SpectrumCallObserver } from './client/spectrum-client.options';
import { SpectrumSemaphore } from './client/spectrum-concurrency';
import {
  SpectrumAuthError,
  SpectrumDataError,
  SpectrumFaultError,
  SpectrumHttpError,
  SpectrumIncompleteResponseError,
  SpectrumNetworkError,
  SpectrumRequestError,
  SpectrumResponseFormatError,
  SpectrumTimeoutError,
} from './client/spectrum.errors';

/** The kind of a failed Spectrum call attempt, as the metrics label it. */
export function faultKind(error: unknown): string {
  if (error instanceof SpectrumFaultError) return 'fault';
  if (error instanceof SpectrumTimeoutError) return 'timeout';
  if (error instanceof SpectrumNetworkError) return 'network';
  if (error instanceof SpectrumHttpError) return `http_${error.status}`;
  if (error instanceof SpectrumIncompleteResponseError) return 'incomplete';
  if (error instanceof SpectrumResponseFormatError) return 'format';
  if (error instanceof SpectrumAuthError) return 'auth';
  if (error instanceof SpectrumRequestError) return 'request';
  if (error instanceof SpectrumDataError) return 'data';
  return 'error';
}

/** Spectrum call latency and faults (every attempt), from the client's observer hook. */
export function spectrumCallObserver(metrics: MetricsService): SpectrumCallObserver {
  return {
    attempt(service, seconds, error) {
      metrics.spectrumCallDuration.observe({ operation: service, outcome: error === undefined ? 'ok' : 'error' }, seconds);
      if (error !== undefined) metrics.spectrumFaults.inc({ operation: service, kind: faultKind(error) });
    },
  };
}

/** The export ledger's store, counting the rows written and failed once their outcome is committed. */
export function countingLedgerStore(store: LedgerStore, metrics: MetricsService): LedgerStore {
  return {
    async recordOutcomes(batch: LedgerEntry[]): Promise<void> {
      await store.recordOutcomes(batch);
      // `written` with no action: Spectrum already held the row as planned; nothing was written.
      const written = batch.filter((entry) => entry.outcome === 'written' && entry.action !== null).length;
      const failed = batch.filter((entry) => entry.outcome === 'failed').length;
      if (written) metrics.spectrumRowsWritten.inc(written);
      if (failed) metrics.spectrumRowsFailed.inc(failed);
    },
  };
}

/** connector_spectrum_permits_in_use / _limit: the cross-worker semaphore, read from Redis when scraped. */
@Injectable()
export class SpectrumPermitMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly semaphore: SpectrumSemaphore,
    private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.metrics.addScrapedGauge({
      name: 'connector_spectrum_permits_in_use',
      help: 'Spectrum concurrency permits held across every worker (SPECTRUM_CONCURRENCY is the limit)',
      read: async () => [{ value: await this.semaphore.count() }],
    });
    this.metrics.addScrapedGauge({
      name: 'connector_spectrum_permits_limit',
      help: 'SPECTRUM_CONCURRENCY: Spectrum calls allowed at once across every worker',
      read: async () => [{ value: this.config.spectrum.concurrency }],
    });
  }
}
