import { Injectable, Logger } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One sample of a gauge read at scrape time. */
export interface GaugeSample {
  labels?: Record<string, string>;
  value: number;
}

export interface ScrapedGauge {
  name: string;
  help: string;
  labelNames?: string[];
  /** Reads the current values (from PostgreSQL, Redis…); bounded by READ_TIMEOUT_MS. */
  read: () => Promise<GaugeSample[]>;
}

/** A gauge whose source does not answer within this long is left out of that scrape. */
const READ_TIMEOUT_MS = 1_500;

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const JOB_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/**
 * The process's Prometheus metrics (prom-client, a registry of its own): the Node.js process
 * metrics, and the connector's under `connector_`. Counters and histograms are updated where things
 * happen (jobs, Spectrum calls, Procore requests, emails, the export ledger); gauges of state
 * (queues, submissions, Spectrum permits) are read at scrape time from their owners, which
 * register them with `addScrapedGauge`. Served as /metrics by the API (admins) and by each
 * worker's ops server (HEALTH_PORT).
 */
@Injectable()
export class MetricsService {
  private readonly logger = new Logger(MetricsService.name);
  readonly registry = new Registry();

  readonly jobDuration = new Histogram({
    name: 'connector_job_duration_seconds',
    help: 'Duration of queue job runs, by job name and outcome (completed or failed)',
    labelNames: ['job', 'outcome'],
    buckets: JOB_SECONDS,
    registers: [this.registry],
  });
  readonly jobFailures = new Counter({
    name: 'connector_job_failures_total',
    help: 'Queue job runs that failed (each failed attempt), by job name',
    labelNames: ['job'],
    registers: [this.registry],
  });
  readonly spectrumCallDuration = new Histogram({
    name: 'connector_spectrum_call_duration_seconds',
    help: 'Duration of each Spectrum call attempt, by operation (AddPhase, GetJob, GetPhase…) and outcome (ok or error)',
    labelNames: ['operation', 'outcome'],
    buckets: SECONDS,
    registers: [this.registry],
  });
  readonly spectrumFaults = new Counter({
    name: 'connector_spectrum_faults_total',
    help: 'Failed Spectrum call attempts, by operation and kind (fault, timeout, network, http_<status>, incomplete, format, auth, request, data)',
    labelNames: ['operation', 'kind'],
    registers: [this.registry],
  });
  readonly spectrumRowsWritten = new Counter({
    name: 'connector_spectrum_rows_written_total',
    help: 'Budget rows written to Spectrum (AddPhase succeeded, or put in a transfer file), as committed to the export ledger',
    registers: [this.registry],
  });
  readonly spectrumRowsFailed = new Counter({
    name: 'connector_spectrum_rows_failed_total',
    help: 'Budget rows Spectrum refused or that were given up, as committed to the export ledger',
    registers: [this.registry],
  });
  readonly procoreRequests = new Counter({
    name: 'connector_procore_requests_total',
    help: 'HTTP requests to Procore (token endpoint included), by response status (or "error" when none came)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  readonly procoreRateLimited = new Counter({
    name: 'connector_procore_rate_limited_total',
    help: 'Procore answers 429 Too Many Requests',
    registers: [this.registry],
  });
  readonly procoreRateRemaining = new Gauge({
    name: 'connector_procore_rate_limit_remaining',
    help: 'X-Rate-Limit-Remaining of the latest Procore answer that had it',
    registers: [this.registry],
  });
  readonly procoreRateLimit = new Gauge({
    name: 'connector_procore_rate_limit',
    help: 'X-Rate-Limit-Limit of the latest Procore answer that had it',
    registers: [this.registry],
  });
  readonly emailsSent = new Counter({
    name: 'connector_emails_sent_total',
    help: 'Notification emails the SMTP server accepted, by kind',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly emailsFailed = new Counter({
    name: 'connector_emails_failed_total',
    help: 'Notification emails that failed, by kind; final="false" will be tried again, final="true" was given up',
    labelNames: ['kind', 'final'],
    registers: [this.registry],
  });

  readonly readCacheRequests = new Counter({
    name: 'connector_api_read_cache_requests_total',
    help: 'Budget list and details requests by how the API answered them: hit (from memory), miss (read, then kept), shared (the same read as a miss running at that moment), bypass (read; the cache is off or changes cannot be heard)',
    labelNames: ['result'],
    registers: [this.registry],
  });

  constructor() {
    // Process metrics under their usual names (process_*, nodejs_*), as dashboards expect them.
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge read when scraped. A source that fails or is slow leaves the gauge empty for that scrape. */
  addScrapedGauge(gauge: ScrapedGauge): void {
    const logger = this.logger;
    new Gauge({
      name: gauge.name,
      help: gauge.help,
      labelNames: gauge.labelNames ?? [],
      registers: [this.registry],
      async collect() {
        this.reset();
        try {
          for (const sample of await withTimeout(gauge.read(), READ_TIMEOUT_MS)) {
            if (sample.labels) this.set(sample.labels, sample.value);
            else this.set(sample.value);
          }
        } catch (error) {
          logger.debug(`${gauge.name} not read: ${(error as Error).message}`);
        }
      },
    });
  }

  /** The exposition text and its content type, for /metrics. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  promise.catch(() => undefined);
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
