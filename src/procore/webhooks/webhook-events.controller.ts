import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQueryDto } from '../../common/page-query.dto';
import { RequirePermission } from '../../common/auth.decorators';
import { WEBHOOK_EVENT_STATUSES, WebhookEventStatus } from '../webhook-event.entity';
import { WebhookEventQueries } from './webhook-event-queries.service';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { WebhookEventPageDto } from './webhook.responses';

export class ListWebhookEventsQueryDto extends PageQueryDto {
  @ApiPropertyOptional({ enum: WEBHOOK_EVENT_STATUSES, description: 'unusable: deliveries the connector could not use, with the reason' })
  @IsOptional() @IsIn(WEBHOOK_EVENT_STATUSES, { message: `status must be one of ${WEBHOOK_EVENT_STATUSES.join(', ')}` })
  status?: WebhookEventStatus;
}

@ApiTags('webhooks')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/webhook-events')
export class WebhookEventsController {
  constructor(private readonly queries: WebhookEventQueries) {}

  @Get()
  @RequirePermission('admin')
  @ApiOperation({
    summary: 'Stored Procore webhook deliveries, newest first (admins)',
    description:
      '`?status=unusable` lists the deliveries the connector could not use, each with the reason and what arrived (the payload, or the first 100 kB of a body that is not a JSON object). The polling sweep catches up on the projects they were about.',
  })
  @ApiOkResponse({ type: WebhookEventPageDto })
  @ApiErrors(400, 403)
  list(@Query() query: ListWebhookEventsQueryDto) {
    return this.queries.list(query);
  }
}
