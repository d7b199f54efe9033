import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Queue } from 'bull';
import type { Response } from 'express';
import { QueueName } from '../queue/queue.contract';
import { QUEUES } from '../queue/queue.tokens';
import { Public } from '../common/auth.decorators';
import { HealthRepository } from './health.repository';
import { HealthDto } from './health.responses';

const CHECK_TIMEOUT_MS = 2_000;

/** Liveness and readiness: 200 when PostgreSQL and Redis answer, 503 naming what does not. */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(
    private readonly database: HealthRepository,
    @Inject(QUEUES) private readonly queues: Map<QueueName, Queue>,
  ) {}

  @Get()
  @Public()
  @ApiOperation({ summary: 'Readiness: 200 when PostgreSQL and Redis answer, 503 naming what does not' })
  @ApiOkResponse({ type: HealthDto })
  @ApiServiceUnavailableResponse({ type: HealthDto, description: 'PostgreSQL or Redis does not answer; `checks` says which, and why' })
  async check(@Res() response: Response): Promise<void> {
    const [database, redis] = await Promise.all([
      probe(() => this.database.ping()),
      probe(() => this.queues.get('maintenance')!.client.ping()),
    ]);
    const ok = database.status === 'up' && redis.status === 'up';
    response.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { database, redis } });
  }
}

async function probe(check: () => Promise<unknown>): Promise<{ status: 'up' | 'down'; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS))),
    ]);
    return { status: 'up' };
  } catch (error) {
    return { status: 'down', error: (error as Error).message.replace(/\/\/[^@\s]*@/g, '//') };
  } finally {
    clearTimeout(timer);
  }
}
