import { createHash } from 'node:crypto';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { ReadChange, ReadChanges } from '../../database/read-changes';
import { MetricsService } from '../../observability/metrics.service';

/** An answer ready to send: its JSON and its ETag (computed once, not on every send). */
export interface JsonAnswer {
  body: string;
  etag: string;
}

/**
 * What an answer shows: lists of submissions, or one submission's details — with, once read, the
 * positions of the first and last row on its rows page (`rows`; null: none on it). A details scope
 * without `rows` counts as showing every row.
 */
export type ReadScope = 'list' | { submissionId: string; rows?: { first: number; last: number } | null };

/** What a read found, and (`shows`) a narrower scope for it than the one asked with, known only once read. */
export interface Read {
  value: unknown;
  shows?: ReadScope;
}

interface Entry extends JsonAnswer {
  scope: ReadScope;
  bytes: number;
}

/** A read in progress; a change to its scope while it runs keeps its answer out of the cache. */
interface Fill {
  scope: ReadScope;
  stale: boolean;
  answer: Promise<JsonAnswer>;
}

/**
 * The API's budget list and details answers, kept in memory (READ_CACHE_MB, least recently used
 * out first) and never served stale: before each answer, ReadChanges.sync() makes sure every change
 * committed before the request came in has been heard (PostgreSQL's notifications from the
 * tables' triggers) and has dropped the answers it touched. A change to a submission drops its
 * details and every list; to its lines, rows or history, its details — but an update of what rows
 * show drops only the details whose rows page holds one of those rows; anything else (users, a
 * truncate, the feed interrupted), everything. While changes cannot be heard, answers are read
 * from PostgreSQL as without the cache. Only answers of reads that no change overtook are kept,
 * and requests that miss at once share one read (unless a change overtook it: then they read anew).
 */
@Injectable()
export class ReadCache implements OnModuleDestroy {
  private readonly entries = new Map<string, Entry>();
  private readonly fills = new Map<string, Fill>();
  private bytes = 0;
  private readonly maxBytes: number;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly changes: ReadChanges,
    private readonly metrics: MetricsService,
    @Inject(AppConfig) config: Pick<AppConfig, 'readCacheBytes'>,
  ) {
    this.maxBytes = config.readCacheBytes;
    this.unsubscribe = changes.subscribe((change) => this.changed(change));
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The answer for `key` (a request's route and normalised query), from memory or from `read`; `since`: when the request arrived. */
  async answer(key: string, scope: ReadScope, read: () => Promise<Read>, since?: number): Promise<JsonAnswer> {
    if (!this.maxBytes || !(await this.changes.sync(since))) {
      this.metrics.readCacheRequests.inc({ result: 'bypass' });
      return toJson((await read()).value);
    }
    const kept = this.entries.get(key);
    if (kept) {
      // Most recently used last.
      this.entries.delete(key);
      this.entries.set(key, kept);
      this.metrics.readCacheRequests.inc({ result: 'hit' });
      return kept;
    }
    // A read of the same answer already running, that no change has overtaken, is this request's too.
    const running = this.fills.get(key);
    if (running && !running.stale) {
      this.metrics.readCacheRequests.inc({ result: 'shared' });
      return running.answer;
    }
    this.metrics.readCacheRequests.inc({ result: 'miss' });
    let answered!: (answer: Promise<JsonAnswer>) => void;
    const fill: Fill = { scope, stale: false, answer: new Promise((resolve) => (answered = resolve)) };
    // Registered before the read starts: a change heard from here on (to anything in `scope`) keeps its answer out.
    this.fills.set(key, fill);
    let shows = scope;
    answered(
      Promise.resolve()
        .then(read)
        .then((found) => {
          shows = found.shows ?? scope;
          return toJson(found.value);
        }),
    );
    try {
      const answer = await fill.answer;
      if (!fill.stale && this.changes.live) this.keep(key, shows, answer);
      return answer;
    } finally {
      if (this.fills.get(key) === fill) this.fills.delete(key);
    }
  }

  private keep(key: string, scope: ReadScope, answer: JsonAnswer): void {
    const bytes = answer.body.length * 2 + key.length * 2 + 200;
    if (bytes > this.maxBytes / 4) return;
    this.drop(key);
    this.entries.set(key, { ...answer, scope, bytes });
    this.bytes += bytes;
    for (const [oldest] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.drop(oldest);
    }
  }

  private drop(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  private changed(change: ReadChange): void {
    const touches = (scope: ReadScope) => {
      if (change.kind === 'everything') return true;
      if (change.kind === 'tokens') return false;
      if (scope === 'list') return change.kind === 'submission';
      if (change.kind !== 'rows') return change.submissionIds.includes(scope.submissionId);
      const rows = scope.rows;
      if (rows === null) return false;
      return change.spans.some((span) => span.submissionId === scope.submissionId && (!rows || (span.first <= rows.last && span.last >= rows.first)));
    };
    for (const fill of this.fills.values()) if (touches(fill.scope)) fill.stale = true;
    if (change.kind === 'everything') {
      this.entries.clear();
      this.bytes = 0;
      return;
    }
    for (const [key, entry] of this.entries) if (touches(entry.scope)) this.drop(key);
  }
}

/** The JSON Express would send, with the weak ETag Express would compute for it. */
export function toJson(value: unknown): JsonAnswer {
  const body = JSON.stringify(value);
  const hash = createHash('sha1').update(body, 'utf8').digest('base64').substring(0, 27);
  return { body, etag: `W/"${Buffer.byteLength(body, 'utf8').toString(16)}-${hash}"` };
}
