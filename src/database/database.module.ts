import { Module } from '@nestjs/common';
import { LockRepository } from './lock.repository';
import { ReadChanges } from './read-changes';

/** What the modules share of PostgreSQL beyond their own repositories: the advisory locks and the change notifications. */
@Module({ providers: [LockRepository, ReadChanges], exports: [LockRepository, ReadChanges] })
export class DatabaseModule {}
