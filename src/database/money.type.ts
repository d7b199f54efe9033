import { Type } from '@mikro-orm/core';
import { Cents, formatMoney, toCents } from '../common/money';

/** numeric(18,2) in PostgreSQL, bigint cents in code: exact both ways. */
export class MoneyType extends Type<Cents, string> {
  override convertToDatabaseValue(value: Cents): string {
    return typeof value === 'bigint' ? formatMoney(value) : (value as unknown as string);
  }

  override convertToJSValue(value: string): Cents {
    return typeof value === 'bigint' ? value : toCents(value);
  }

  override compareAsType(): string {
    return 'string';
  }

  override get runtimeType(): string {
    return 'bigint';
  }

  override getColumnType(): string {
    return 'numeric(18,2)';
  }
}
