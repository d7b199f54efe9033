import { Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ParseIdPipe } from '../../common/id';
import { CurrentUser, RequirePermission } from '../../common/auth.decorators';
import { ACTION_PERMISSIONS } from '../../users/permissions';
import { User } from '../../users/user.entity';
import { BudgetRemap, RemapResult } from '../../procore/remap/budget-remap.service';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { RemapResultDto } from './budgets.responses';

@ApiTags('budgets')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/budgets')
export class BudgetRemapController {
  constructor(private readonly remapper: BudgetRemap) {}

  @Post(':id/remap')
  @HttpCode(200)
  @RequirePermission(ACTION_PERMISSIONS.remap)
  @ApiOperation({
    summary: 'Map a ready_to_export or failed_to_export budget again with the mapping in force (MAPPING_FILE), from its snapshot',
    description:
      'No Procore read and no re-send: a fixed mapping takes effect on the next accept or retry. Rows already written to Spectrum under the old mapping that the new one lacks are set to 0.00 by the next export. Audited; the status does not change. 409 from any other status.',
  })
  @ApiOkResponse({ type: RemapResultDto })
  @ApiErrors(400, 403, 404, 409)
  remap(@Param('id', ParseIdPipe) id: string, @CurrentUser() user: User): Promise<RemapResult> {
    return this.remapper.remap(id, user);
  }
}
