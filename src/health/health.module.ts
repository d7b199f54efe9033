import { Module } from '@nestjs/common';
import { QueueModule } from '../queue/queue.module';
import { HealthController } from './health.controller';
import { HealthRepository } from './health.repository';

@Module({ imports: [QueueModule], controllers: [HealthController], providers: [HealthRepository] })
export class HealthModule {}
