import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { ReadChanges } from '../database/read-changes';
import { hashToken } from './token';
import { TokenRecord, UsableToken, UserRepository } from './user.repository';

/** Tokens kept at most; beyond, the memory starts again from nothing. */
const MAX_TOKENS = 10_000;

/**
 * The bearer guard's token lookups, kept in memory for as long as nothing about the token or its
 * user has changed: API token and user changes are notified by PostgreSQL (ReadChanges), and
 * each lookup first makes sure every change committed before the request arrived has been heard.
 * So a revoked token, a deactivated user or a changed permission is refused or applied at once,
 * as if read on every request; expiry is checked on every use. While changes cannot be heard,
 * every lookup reads PostgreSQL, as it does with READ_CACHE_MB=0. Unknown tokens are never kept.
 */
@Injectable()
export class TokenLookup implements OnModuleDestroy {
  private readonly records = new Map<string, TokenRecord>();
  private readonly reads = new Set<{ stale: boolean }>();
  private readonly unsubscribe: () => void;
  private readonly enabled: boolean;

  constructor(
    private readonly users: UserRepository,
    private readonly changes: ReadChanges,
    @Inject(AppConfig) config: Pick<AppConfig, 'readCacheBytes'>,
  ) {
    this.enabled = config.readCacheBytes > 0;
    this.unsubscribe = changes.subscribe((change) => {
      if (change.kind !== 'tokens' && change.kind !== 'everything') return;
      this.records.clear();
      for (const read of this.reads) read.stale = true;
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe();
  }

  /** The usable token a caller presented (see UserRepository.findUsableToken); `since`: when the request arrived. */
  async find(token: string, since?: number): Promise<UsableToken | null> {
    if (!token || token.length > 200) return null;
    const hash = hashToken(token);
    if (!this.enabled || !(await this.changes.sync(since))) return this.usable(await this.users.tokenRecord(hash));
    const kept = this.records.get(hash);
    if (kept) return this.usable(kept);
    const read = { stale: false };
    this.reads.add(read);
    try {
      const record = await this.users.tokenRecord(hash);
      if (record && !read.stale && this.changes.live) {
        if (this.records.size >= MAX_TOKENS) this.records.clear();
        this.records.set(hash, record);
      }
      return this.usable(record);
    } finally {
      this.reads.delete(read);
    }
  }

  private usable(record: TokenRecord | null): UsableToken | null {
    return record ? this.users.usableToken(record) : null;
  }
}
