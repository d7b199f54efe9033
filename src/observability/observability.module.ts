import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';

/**
 * Metrics (MetricsService, /metrics for admins). Depends on no other module: the modules that own
 * a measured thing import this one and record into it, or register a gauge read at scrape time.
 */
@Module({
  controllers: [MetricsController],
  providers: [MetricsService],
  exports: [MetricsService],
})
export class ObservabilityModule {}
