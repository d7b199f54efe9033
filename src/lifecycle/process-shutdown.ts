import { Injectable, Module } from '@nestjs/common';
import { IntegrationError } from '../common/connector.exception';

/** Work refused or cut short because this process is stopping: it is taken up again elsewhere. */
export class ProcessStoppingError extends IntegrationError {
  readonly transient = true;
  constructor(what = 'work') {
    super(`this process is stopping (SIGTERM): ${what} is left for another worker`);
  }
}

/**
 * Whether this process is stopping (SIGTERM). QueueWorker begins the stop when the application
 * shuts down; from then on nothing new starts: no job, no Spectrum call (the client refuses it, the
 * export loops end after their call in flight). Listeners run once, when the stop begins.
 */
@Injectable()
export class ProcessShutdown {
  private began = false;
  private readonly listeners: Array<() => void> = [];

  get stopping(): boolean {
    return this.began;
  }

  /** A ProcessStoppingError when stopping, else undefined. */
  stoppingError(what?: string): ProcessStoppingError | undefined {
    return this.began ? new ProcessStoppingError(what) : undefined;
  }

  onStop(listener: () => void): void {
    if (this.began) listener();
    else this.listeners.push(listener);
  }

  begin(): void {
    if (this.began) return;
    this.began = true;
    for (const listener of this.listeners.splice(0)) listener();
  }
}

/** ProcessShutdown, one per application (import this module; it is not global). */
@Module({ providers: [ProcessShutdown], exports: [ProcessShutdown] })
export class ProcessShutdownModule {}
