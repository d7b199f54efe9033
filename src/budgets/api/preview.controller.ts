import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../../common/auth.decorators';
import { ParseIdPipe } from '../../common/id';
import { FanOutRateLimit } from '../../security/rate-limits';
import { BudgetPreview } from '../../spectrum/budget-preview.service';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { PreviewDto } from './budgets.responses';

@ApiTags('budgets')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/budgets')
export class PreviewController {
  constructor(private readonly previews: BudgetPreview) {}

  @Get(':id/preview')
  @RequirePermission('view')
  @FanOutRateLimit()
  @ApiOperation({ summary: "Dry run: each row new / changed / unchanged against Spectrum's current values (GetPhase)" })
  @ApiOkResponse({ type: PreviewDto })
  @ApiErrors(400, 403, 404, 503)
  preview(@Param('id', ParseIdPipe) id: string) {
    return this.previews.preview(id);
  }
}
