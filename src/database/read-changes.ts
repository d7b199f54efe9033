import { AsyncResource } from 'node:async_hooks';
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Client, Notification } from 'pg';
import { AppConfig } from '../config/app-config';

/** The channel the migration's triggers notify (Migration20261128010000_ReadChangeNotifications). */
export const READS_CHANNEL = 'connector_reads';

/** Positions `first` to `last` of one submission's rows. */
export interface RowSpan {
  submissionId: string;
  first: number;
  last: number;
}

/**
 * A committed change to what the API reads: `submission` (the submission itself: its details and
 * every list), `details` (its lines, rows or history), `rows` (what some rows show, within these
 * spans of positions; no row came, went or moved and no problem changed), `tokens` (API tokens), or
 * `everything` (a user changed, a table was truncated, or the feed was interrupted and changes may
 * have been missed).
 */
export type ReadChange =
  | { kind: 'submission' | 'details'; submissionIds: string[] }
  | { kind: 'rows'; spans: RowSpan[] }
  | { kind: 'tokens' }
  | { kind: 'everything' };

/** A round trip on the listening connection: when it was sent, and whether it came back. */
interface Flight {
  startedAt: number;
  done: Promise<boolean>;
}

/** A sync that waits longer than this answers "not in sync" (the caller reads PostgreSQL itself). */
const SYNC_TIMEOUT_MS = 2_000;
const RECONNECT_MS = 1_000;

/**
 * PostgreSQL's change notifications for the API's read cache, on a connection of its own that
 * LISTENs on `connector_reads`. Started by the first `sync()`, so a process that never serves a
 * cached read (a worker) never opens it.
 *
 * `sync()` is the cache's guarantee: it resolves true once every change committed before it was
 * called has been handed to the subscribers: a round trip on the listening connection (see
 * `barrier`). Callers waiting at the same time share one round trip, and one sent before a caller
 * arrived is never taken as its own. While the connection is down, `sync()` answers false at
 * once, and when it is up again the subscribers hear `everything` (what happened meanwhile is
 * unknown).
 */
@Injectable()
export class ReadChanges implements OnModuleDestroy {
  private readonly logger = new Logger(ReadChanges.name);
  private readonly subscribers = new Set<(change: ReadChange) => void>();
  /** The connection lives outside the request that happens to open it (its log lines carry no request id). */
  private readonly outsideRequests = new AsyncResource('ReadChanges');
  private client?: Client;
  private starting?: Promise<void>;
  private started = false;
  private listening = false;
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;
  /** The start of the latest round trip that came back while listening (see sync). */
  private syncedUpTo = -Infinity;
  private inFlight?: Flight;
  private next?: Promise<boolean>;

  constructor(@Inject(AppConfig) private readonly config: Pick<AppConfig, 'databaseUrl'>) {}

  subscribe(subscriber: (change: ReadChange) => void): () => void {
    this.subscribers.add(subscriber);
    return () => this.subscribers.delete(subscriber);
  }

  /** Whether the connection is listening (changes are arriving). */
  get live(): boolean {
    return this.listening;
  }

  /**
   * True once every change committed before `since` (a `performance.now()` time; default now) has
   * reached the subscribers; false when that cannot be known now. A request passes the time it
   * arrived, so its several reads share one round trip.
   */
  sync(since = performance.now()): Promise<boolean> {
    if (!this.listening) {
      // The first call opens the connection; after a loss the reconnect timer does.
      if (!this.started) this.outsideRequests.runInAsyncScope(() => this.start());
      return Promise.resolve(false);
    }
    if (this.syncedUpTo >= since) return Promise.resolve(true);
    const flight = this.inFlight;
    if (!flight) return this.startBarrier().done;
    if (flight.startedAt >= since) return flight.done;
    // The round trip in flight was sent before `since`: wait for the next one, shared by everyone waiting.
    this.next ??= flight.done.then(() => {
      this.next = undefined;
      return (this.inFlight ?? this.startBarrier()).done;
    });
    return this.next;
  }

  private startBarrier(): Flight {
    const startedAt = performance.now();
    const flight: Flight = {
      startedAt,
      done: this.barrier()
        .then((inSync) => {
          if (inSync) this.syncedUpTo = Math.max(this.syncedUpTo, startedAt);
          return inSync;
        })
        .finally(() => {
          if (this.inFlight === flight) this.inFlight = undefined;
        }),
    };
    this.inFlight = flight;
    return flight;
  }

  async onModuleDestroy(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.down();
    await client?.end().catch(() => undefined);
  }

  private start(): void {
    this.started = true;
    if (this.starting || this.closed) return;
    this.starting = this.connect().finally(() => (this.starting = undefined));
  }

  private async connect(): Promise<void> {
    const client = new Client({ connectionString: this.config.databaseUrl, application_name: 'connector-read-changes' });
    client.on('error', (error) => this.lost(client, error.message));
    client.on('end', () => this.lost(client, 'the connection ended'));
    client.on('notification', (message) => this.received(message));
    this.client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${READS_CHANNEL}`);
      if (this.closed || this.client !== client) return void client.end().catch(() => undefined);
      this.listening = true;
      // Whatever changed before LISTEN was never heard: start from nothing.
      this.publish({ kind: 'everything' });
      this.logger.log('Listening for read changes: the API read cache is on');
    } catch (error) {
      this.lost(client, (error as Error).message);
      void client.end().catch(() => undefined);
    }
  }

  private lost(client: Client, reason: string): void {
    if (this.client !== client) return;
    if (this.listening) this.logger.warn(`Read changes interrupted (${reason}): the API read cache is off until they resume`);
    this.down();
    if (!this.closed) {
      clearTimeout(this.reconnectTimer);
      this.reconnectTimer = setTimeout(() => this.start(), RECONNECT_MS);
      this.reconnectTimer.unref();
    }
  }

  private down(): void {
    this.client = undefined;
    const wasListening = this.listening;
    this.listening = false;
    this.syncedUpTo = -Infinity;
    if (wasListening) this.publish({ kind: 'everything' });
  }

  /**
   * A round trip on the listening connection. PostgreSQL signals listeners before it tells a
   * committing client its commit is done, and a listening backend that has been signalled sends
   * the pending notifications before it runs the next statement it reads: so when this answer
   * arrives, every notification of a commit done before it was sent has arrived ahead of it
   * (node-postgres hands them over in the order they came).
   */
  private async barrier(): Promise<boolean> {
    const client = this.client;
    if (!client || !this.listening) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SYNC_TIMEOUT_MS)));
    try {
      return await Promise.race([client.query('select 1').then(() => this.listening && this.client === client), timeout]);
    } catch {
      return false;
    } finally {
      clearTimeout(timer);
    }
  }

  private received(message: Notification): void {
    if (message.channel !== READS_CHANNEL) return;
    this.publish(parseChange(message.payload ?? ''));
  }

  private publish(change: ReadChange): void {
    for (const subscriber of this.subscribers) subscriber(change);
  }
}

/** `s:1,2`, `d:3`, `r:3:1-250,4:7-7`, `t`, `u`, `*` (see the migrations); anything else counts as everything. */
export function parseChange(payload: string): ReadChange {
  if (payload === 't') return { kind: 'tokens' };
  const rows = /^r:(\d+:\d+-\d+(?:,\d+:\d+-\d+)*)$/.exec(payload);
  if (rows) {
    const spans = rows[1].split(',').map((span) => {
      const [submissionId, first, last] = span.split(/[:-]/);
      return { submissionId, first: Number(first), last: Number(last) };
    });
    return { kind: 'rows', spans };
  }
  const match = /^([sd]):(\d+(?:,\d+)*)$/.exec(payload);
  if (!match) return { kind: 'everything' };
  return { kind: match[1] === 's' ? 'submission' : 'details', submissionIds: match[2].split(',') };
}
