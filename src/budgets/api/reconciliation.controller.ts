import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../../common/auth.decorators';
import { ParseIdPipe } from '../../common/id';
import { reportToCsv, reportToHtml } from '../../reconciliation/reconciliation-report';
import { ReconciliationReports } from '../../reconciliation/reconciliation-reports.service';
import { HTML_REPORT_CSP } from '../../security/security-headers';
import { ReconciliationQueryDto } from './budgets.dto';

@ApiTags('budgets')
@ApiBearerAuth()
@Controller('api/v1/budgets')
export class ReconciliationController {
  constructor(private readonly reports: ReconciliationReports) {}

  @Get(':id/reconciliation')
  @RequirePermission('view')
  @ApiProduces('application/json', 'text/csv', 'text/html')
  @ApiOperation({ summary: 'The latest reconciliation report: JSON, ?format=csv or ?format=html (printable)' })
  async latest(
    @Param('id', ParseIdPipe) id: string,
    @Query() query: ReconciliationQueryDto,
    @Res({ passthrough: true }) response: Response,
  ) {
    const report = await this.reports.latest(id);
    if (query.format === 'csv') {
      response.setHeader('Content-Type', 'text/csv; charset=utf-8');
      response.setHeader('Content-Disposition', `attachment; filename="reconciliation-${id}-${report.ranAt.slice(0, 10)}.csv"`);
      return reportToCsv(report);
    }
    if (query.format === 'html') {
      response.setHeader('Content-Type', 'text/html; charset=utf-8');
      response.setHeader('Content-Security-Policy', HTML_REPORT_CSP);
      return reportToHtml(report);
    }
    return report;
  }
}
