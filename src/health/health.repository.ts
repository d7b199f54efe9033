import { Injectable } from '@nestjs/common';
import { pendingMigrations } from '../database/migration-status';
import { Repository } from '../database/repository';

/** What health asks PostgreSQL: does it answer, and which migrations has it not applied? */
@Injectable()
export class HealthRepository extends Repository {
  async ping(): Promise<void> {
    await this.em.getConnection().execute('select 1');
  }

  pendingMigrations(): Promise<string[]> {
    const connection = this.em.getConnection();
    return pendingMigrations((sql) => connection.execute(sql));
  }
}
