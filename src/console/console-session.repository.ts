import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';
import { ConsoleSession, SignInMethod } from './console-session.entity';

export interface NewConsoleSession {
  id: string;
  userId: string;
  method: SignInMethod;
  apiTokenId: string | null;
  csrfToken: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Console sessions (`console_session`), stored by the hash of their cookie's secret. */
@Injectable()
export class ConsoleSessionRepository extends Repository {
  async create(data: NewConsoleSession): Promise<void> {
    const em = this.em;
    em.create(ConsoleSession, {
      id: data.id,
      user: em.getReference('User', data.userId),
      method: data.method,
      apiToken: data.apiTokenId ? em.getReference('ApiToken', data.apiTokenId) : null,
      csrfToken: data.csrfToken,
      createdAt: data.createdAt,
      lastSeenAt: data.createdAt,
      expiresAt: data.expiresAt,
      flash: null,
    } as never);
    await em.flush();
  }

  /** A session with its user and (for a token sign-in) its token. */
  find(id: string): Promise<ConsoleSession | null> {
    return this.em.findOne(ConsoleSession, id, { populate: ['user', 'apiToken'] });
  }

  async delete(id: string): Promise<void> {
    await this.em.nativeDelete(ConsoleSession, { id });
  }

  async touch(id: string, at: Date): Promise<void> {
    await this.em.nativeUpdate(ConsoleSession, { id }, { lastSeenAt: at });
  }

  async setFlash(id: string, flash: ConsoleSession['flash']): Promise<void> {
    await this.em.nativeUpdate(ConsoleSession, { id }, { flash });
  }

  /** Deletes sessions that expired, or were idle since before `idleSince`; returns how many. */
  deleteEnded(idleSince: Date): Promise<number> {
    return this.em.nativeDelete(ConsoleSession, { $or: [{ expiresAt: { $lte: new Date() } }, { lastSeenAt: { $lte: idleSince } }] });
  }
}
