/**
 * The health answers as the OpenAPI document describes them: @nestjs/terminus' JSON. Each check
 * (`database`, `redis`, `migrations`, `worker`, `process`) is `{status: up|down, …}`; a down one
 * carries a `message` (and `pending` for migrations).
 */
const CHECKS = { type: 'object', additionalProperties: { type: 'object', properties: { status: { type: 'string', enum: ['up', 'down'] }, message: { type: 'string' } } } };

export const HEALTH_SCHEMA = {
  type: 'object',
  required: ['status', 'info', 'error', 'details'],
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { ...CHECKS, description: 'The checks that are up' },
    error: { ...CHECKS, description: 'The checks that are down: why the answer is 503' },
    details: { ...CHECKS, description: 'Every check' },
  },
  example: {
    status: 'error',
    info: { database: { status: 'up' }, migrations: { status: 'up' } },
    error: { redis: { status: 'down', message: 'no answer within 2000 ms' } },
    details: { database: { status: 'up' }, redis: { status: 'down', message: 'no answer within 2000 ms' }, migrations: { status: 'up' } },
  },
};
