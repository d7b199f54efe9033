import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../../config/app-config';
import { EMPTY_MAPPING, MappingFileError, MappingOverrides, readMappingFile } from './mapping-file';

/** How often the file's modification time is looked at (polling works on every file system and volume mount). */
export const MAPPING_WATCH_INTERVAL_MS = 1000;

export interface MappingReload {
  /** True when a new mapping is now in force. */
  changed: boolean;
  /** The file could not be used; the previous mapping stays in force. */
  problems?: string[];
}

/**
 * The mapping overrides in force (MAPPING_FILE). Read at start — a bad file stops the process —
 * and read again whenever the file changes or the process gets SIGHUP. A file that cannot be used
 * on a reload is refused with every problem logged, and the previous mapping stays in force.
 * Everything that maps asks `current()` at the moment it maps, so a fix applies from then on.
 */
@Injectable()
export class MappingStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(MappingStore.name);
  private mapping: MappingOverrides;
  private digest: string;
  /** The file's identity when it was last read: a different one means it changed. */
  private seen = '';
  private timer?: NodeJS.Timeout;
  private readonly onHangup = () => void this.reload('SIGHUP');

  constructor(private readonly path: string | undefined) {
    const { mapping, digest } = this.read();
    this.mapping = mapping;
    this.digest = digest;
  }

  static fromConfig(config: AppConfig): MappingStore {
    return new MappingStore(config.mappingFile);
  }

  /** A store holding a fixed mapping (unit tests). */
  static fixed(mapping: MappingOverrides): MappingStore {
    const store = new MappingStore(undefined);
    store.mapping = mapping;
    return store;
  }

  current(): MappingOverrides {
    return this.mapping;
  }

  /** A short name of the mapping in force (a hash of the file), for the audit trail. */
  version(): string {
    return this.digest.slice(0, 12);
  }

  onModuleInit(): void {
    if (!this.path) return;
    // Compared with the file as it was when read (not when watching began), so no change is missed.
    this.timer = setInterval(() => {
      if (fileIdentity(this.path!) !== this.seen) this.reload('the file changed');
    }, MAPPING_WATCH_INTERVAL_MS);
    this.timer.unref();
    process.on('SIGHUP', this.onHangup);
  }

  onModuleDestroy(): void {
    if (!this.path) return;
    clearInterval(this.timer);
    process.off('SIGHUP', this.onHangup);
  }

  /** Reads MAPPING_FILE again; keeps the mapping in force when the file cannot be used. */
  reload(why = 'asked'): MappingReload {
    if (!this.path) return { changed: false };
    let next: { mapping: MappingOverrides; digest: string };
    try {
      next = this.read();
    } catch (error) {
      const problems = error instanceof MappingFileError ? error.problems : [(error as Error).message];
      this.logger.error(
        `MAPPING_FILE ${this.path} was not reloaded (${why}); the previous mapping (${this.version()}) stays in force. It cannot be used:\n` +
          problems.map((problem) => `  - ${problem}`).join('\n'),
      );
      return { changed: false, problems };
    }
    if (next.digest === this.digest) return { changed: false };
    this.mapping = next.mapping;
    this.digest = next.digest;
    this.logger.log(`MAPPING_FILE ${this.path} reloaded (${why}): mapping ${this.version()} is in force`);
    return { changed: true };
  }

  private read(): { mapping: MappingOverrides; digest: string } {
    if (!this.path) return { mapping: EMPTY_MAPPING, digest: hash('') };
    // Looked at before reading: a change during the read shows as a new identity next time.
    this.seen = fileIdentity(this.path);
    const { text, mapping } = readMappingFile(this.path);
    return { mapping, digest: hash(text) };
  }
}

/** Inode, size and modification time; `missing` when the file cannot be looked at. */
function fileIdentity(path: string): string {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.ino}:${stats.size}:${stats.mtimeNs}:${stats.ctimeNs}`;
  } catch {
    return 'missing';
  }
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
