import { Module } from '@nestjs/common';
import { LockRepository } from './lock.repository';

/** What the modules share of PostgreSQL beyond their own repositories: the advisory locks. */
@Module({ providers: [LockRepository], exports: [LockRepository] })
export class DatabaseModule {}
