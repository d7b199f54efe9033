import { Injectable, PipeTransform } from '@nestjs/common';
import { InputException, InputExceptionCode } from './connector.exception';

const ID = /^[1-9]\d{0,17}$/;

export function isId(value: unknown): value is string {
  return typeof value === 'string' && ID.test(value);
}

/** Ids are positive whole numbers sent as strings; anything else is a 400, never a database error. */
@Injectable()
export class ParseIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown): string {
    if (!isId(value)) throw new InputException(InputExceptionCode.InvalidId, `"${String(value).slice(0, 40)}" is not a valid id: ids are positive whole numbers`);
    return value;
  }
}
