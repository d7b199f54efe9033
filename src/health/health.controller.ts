import { Controller, Get, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { ApiErrors } from '../common/api-docs';
import { Public } from '../common/auth.decorators';
import { HEALTH_SCHEMA } from './health.responses';
import { HealthAnswer, HealthService } from './health.service';

/**
 * Liveness and readiness (@nestjs/terminus' JSON), without a token. `GET /health` is readiness,
 * kept for clients and probes written before /health/ready.
 */
@ApiTags('health')
@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  @Get('live')
  @Public()
  @ApiOperation({ summary: 'Liveness: the process is up (no dependency is checked)' })
  @ApiOkResponse({ description: 'The process answers', schema: HEALTH_SCHEMA })
  @ApiErrors(500)
  async live(@Res() response: Response): Promise<void> {
    send(response, await this.health.live());
  }

  @Get('ready')
  @Public()
  @ApiOperation({ summary: 'Readiness: PostgreSQL, Redis and migrations (and, in a process running workers, their heartbeat)' })
  @ApiOkResponse({ description: 'Every check is up', schema: HEALTH_SCHEMA })
  @ApiServiceUnavailableResponse({ description: 'A check is down; `error` names it', schema: HEALTH_SCHEMA })
  async ready(@Res() response: Response): Promise<void> {
    send(response, await this.health.ready());
  }

  @Get()
  @Public()
  @ApiOperation({ summary: 'Readiness (alias of /health/ready, for existing clients)' })
  @ApiOkResponse({ description: 'Every check is up', schema: HEALTH_SCHEMA })
  @ApiServiceUnavailableResponse({ description: 'A check is down; `error` names it', schema: HEALTH_SCHEMA })
  async check(@Res() response: Response): Promise<void> {
    send(response, await this.health.ready());
  }
}

function send(response: Response, answer: HealthAnswer): void {
  response.status(answer.statusCode).setHeader('cache-control', 'no-store').json(answer.body);
}
