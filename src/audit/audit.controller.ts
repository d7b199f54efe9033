import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../common/auth.decorators';
import { AuditEventsQueryDto } from './audit-events.dto';
import { AuditEvents } from './audit-events.service';
import { ApiAuthenticatedErrors, ApiErrors } from '../common/api-docs';
import { AuditEventPageDto } from './audit.responses';

@ApiTags('audit')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/audit-events')
export class AuditController {
  constructor(private readonly events: AuditEvents) {}

  @Get()
  @RequirePermission('admin')
  @ApiOperation({ summary: 'The audit trail, newest first: user, token and budget events' })
  @ApiOkResponse({ type: AuditEventPageDto })
  @ApiErrors(400, 403)
  list(@Query() query: AuditEventsQueryDto) {
    return this.events.list(query.subject, query.page ?? 1, query.perPage ?? 50);
  }
}
