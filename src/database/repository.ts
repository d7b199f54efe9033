import { TransactionContext, TransactionPropagation } from '@mikro-orm/core';
import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';

/**
 * What every repository shares: the one way to reach PostgreSQL. Repositories are the only
 * classes that touch the ORM; services and use cases call them and never see an EntityManager.
 *
 * Transactions are ambient: inside `transaction(work)` every repository call of `work` — of this
 * repository or any other — runs in that one transaction (MikroORM's TransactionContext, carried
 * by AsyncLocalStorage). Outside one, each call gets a fresh entity manager of its own, so reads
 * never see another caller's identity map.
 */
@Injectable()
export abstract class Repository {
  constructor(private readonly root: EntityManager) {}

  /** The entity manager of the surrounding transaction, or a fresh one. */
  protected get em(): EntityManager {
    return this.transactionEm() ?? (this.root.fork() as EntityManager);
  }

  /** The surrounding transaction's entity manager; throws outside a transaction. */
  protected get tx(): EntityManager {
    const em = this.transactionEm();
    if (!em) throw new Error(`${this.constructor.name}: this needs a transaction (run it inside Outbox.transaction)`);
    return em;
  }

  /** Whether a transaction surrounds the caller. */
  inTransaction(): boolean {
    return this.transactionEm() !== undefined;
  }

  /**
   * Runs `work` in one transaction; repository calls inside it join it. Inside another
   * transaction it joins that one (the outer commit decides).
   */
  transaction<T>(work: () => Promise<T>): Promise<T> {
    return this.root.transactional(() => work(), { propagation: TransactionPropagation.REQUIRED });
  }

  private transactionEm(): EntityManager | undefined {
    return TransactionContext.getEntityManager(this.root.name) as EntityManager | undefined;
  }
}

/**
 * Runs a statement with real bind parameters on the transaction's connection (or the pool). For
 * large JSON parameters: `em.execute` inlines parameters into the SQL text, which for a megabyte
 * of JSON costs seconds and hundreds of MB.
 */
export async function bound<T>(em: EntityManager, sql: string, bindings: unknown[]): Promise<T[]> {
  const query = em.getKnex().raw(sql, bindings as never[]);
  const transaction = em.getTransactionContext();
  if (transaction) query.transacting(transaction);
  const result = (await query) as { rows: T[] };
  return result.rows;
}
