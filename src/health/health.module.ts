import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ObservabilityModule } from '../observability/observability.module';
import { QueueModule } from '../queue/queue.module';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';
import { HealthService } from './health.service';
import { OpsServer } from './ops-server';
import { WorkerHeartbeat } from './worker-heartbeat';

/**
 * Liveness and readiness (terminus): the API's /health routes, and a worker's HEALTH_PORT server
 * (OpsServer, started by main.ts) with /metrics (MetricsService) beside them. HealthService logs readiness changes
 * itself, so terminus' own per-probe error log is off.
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), QueueModule, ObservabilityModule],
  controllers: [HealthController],
  providers: [HealthRepository, HealthService, WorkerHeartbeat, OpsServer],
  exports: [HealthService, OpsServer],
})
export class HealthModule {}
