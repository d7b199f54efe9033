import { Injectable } from '@nestjs/common';
import { Repository } from '../database/repository';

/** The one question health asks PostgreSQL: does it answer? */
@Injectable()
export class HealthRepository extends Repository {
  async ping(): Promise<void> {
    await this.em.getConnection().execute('select 1');
  }
}
