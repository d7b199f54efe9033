import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { Response } from 'express';
import { RequirePermission } from '../../common/auth.decorators';
import { ParseIdPipe } from '../../common/id';
import { reportToCsv, reportToHtml } from '../../reconciliation/reconciliation-report';
import { ReconciliationReports } from '../../reconciliation/reconciliation-reports.service';
import { HTML_REPORT_CSP } from '../../security/security-headers';
import { ReconciliationQueryDto } from './budgets.dto';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { ReconciliationReportDto } from './budgets.responses';

@ApiTags('budgets')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@ApiExtraModels(ReconciliationReportDto)
@Controller('api/v1/budgets')
export class ReconciliationController {
  constructor(private readonly reports: ReconciliationReports) {}

  @Get(':id/reconciliation')
  @RequirePermission('view')
  @ApiProduces('application/json', 'text/csv', 'text/html')
  @ApiOperation({ summary: 'The latest reconciliation report: JSON, ?format=csv or ?format=html (printable)' })
  @ApiOkResponse({
    description: 'The report as JSON; as CSV with ?format=csv, as a printable HTML page with ?format=html',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(ReconciliationReportDto) } },
      'text/csv': {
        schema: { type: 'string' },
        example:
          'job,phase,costType,description,procoreRevised,spectrumEstimated,variance,status,note\r\n' +
          '26-101,01100,L,General Conditions,412500.00,412500.00,0.00,matched,\r\n' +
          'TOTAL,,,,8860816.78,8860816.78,0.00,synced,\r\n',
      },
      'text/html': { schema: { type: 'string' }, example: '<!doctype html><html lang="en">…</html>' },
    },
  })
  @ApiErrors(400, 403, 404)
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
