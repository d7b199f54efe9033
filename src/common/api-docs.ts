import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

/**
 * What the OpenAPI document (/api/docs) says about errors and pages, shared by every controller.
 * Every error leaves as `{statusCode, error, message}` (src/http/http-exception.filter.ts), plus the
 * module exception's details where it has some (e.g. `status` on a 409: the budget's status now).
 */
export class ErrorResponse {
  @ApiProperty({ description: 'The HTTP status, repeated', example: 409 })
  statusCode!: number;

  @ApiProperty({ description: "The status's reason phrase", example: 'Conflict' })
  error!: string;

  @ApiProperty({ description: 'What went wrong, in words a person can act on', example: 'Cannot accept a budget that is synced; only one that is ready to export' })
  message!: string;

  @ApiPropertyOptional({ description: "Details of some errors: the budget's current status (409)", example: 'synced' })
  status?: string;
}

const MEANINGS: Record<number, { description: string; error: string; message: string }> = {
  400: {
    description: 'Bad input (wrong type, unknown field, malformed id, blank reason, invalid JSON): nothing changed',
    error: 'Bad Request',
    message: '"abc" is not a valid id: ids are positive whole numbers',
  },
  401: {
    description: 'No bearer token, or one that is unknown, revoked or expired',
    error: 'Unauthorized',
    message: 'The API token is not valid, has expired or has been revoked',
  },
  403: {
    description: "The token's user may not do this; the message says why",
    error: 'Forbidden',
    message: 'Accepting, rejecting, retrying or unlocking needs ERP permission standard or admin and "Can Push to Accounting"',
  },
  404: { description: 'No such record', error: 'Not Found', message: 'Budget submission 99 does not exist' },
  409: {
    description: 'Refused in the current state (or it changed meanwhile); `status` holds the status now',
    error: 'Conflict',
    message: 'Cannot accept a budget that is synced; only one that is ready to export',
  },
  413: { description: 'The body is larger than 100 kB', error: 'Payload Too Large', message: 'The request body is larger than the 100kb limit' },
  429: {
    description: 'Too many requests (failed authentications from this address, or previews and sends of this user): wait `Retry-After` seconds',
    error: 'Too Many Requests',
    message: 'Too many failed authentications from this address: at most 20 a minute; try again in 42 s',
  },
  500: { description: 'Something failed on our side (logged); try again later', error: 'Internal Server Error', message: 'Something went wrong on our side' },
  503: { description: 'A service the answer needs (PostgreSQL, Spectrum) does not answer now; try again later', error: 'Service Unavailable', message: 'Spectrum could not be read: no answer within 60000 ms' },
};

/** The error responses of a route (or of every route of a controller), in the API's error shape, each with an example. */
export function ApiErrors(...statuses: Array<keyof typeof MEANINGS>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorResponse),
    ...statuses.map((status) => {
      const { description, error, message } = MEANINGS[status];
      return ApiResponse({
        status,
        description,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' }, example: { statusCode: status, error, message } } },
      });
    }),
  );
}

/** The errors every route behind the bearer guard may answer. */
export const ApiAuthenticatedErrors = (): MethodDecorator & ClassDecorator => ApiErrors(401, 429);

/** The fields of every paged list: `{data, page, perPage, total}`. */
export class PageFields {
  @ApiProperty({ example: 1 })
  page!: number;

  @ApiProperty({ example: 50 })
  perPage!: number;

  @ApiProperty({ description: 'Items in the whole list', example: 1 })
  total!: number;
}
