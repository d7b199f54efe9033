import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../common/auth.decorators';
import { MetricsService } from './metrics.service';

/** Prometheus metrics of this process, for admins: `Authorization: Bearer <admin token>`. */
@ApiExcludeController()
@Controller('metrics')
export class MetricsController {
  constructor(private readonly metrics: MetricsService) {}

  @Get()
  @RequirePermission('admin')
  async scrape(@Res() response: Response): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    response.setHeader('Cache-Control', 'no-store');
    response.type(contentType).send(body);
  }
}
