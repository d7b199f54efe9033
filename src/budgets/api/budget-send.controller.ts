import { Body, Controller, HttpCode, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser, RequirePermission } from '../../common/auth.decorators';
import { FanOutRateLimit } from '../../security/rate-limits';
import { BudgetSender, SentBudget } from '../../procore/send/budget-sender.service';
import { User } from '../../users/user.entity';
import { SendBudgetDto } from './send-budget.dto';
import { ApiAuthenticatedErrors, ApiErrors } from '../../common/api-docs';
import { SentBudgetDto } from './budgets.responses';

@ApiTags('budgets')
@ApiBearerAuth()
@ApiAuthenticatedErrors()
@Controller('api/v1/budgets')
export class BudgetSendController {
  constructor(private readonly sender: BudgetSender) {}

  @Post()
  @HttpCode(202)
  @RequirePermission('send')
  @FanOutRateLimit()
  @ApiOperation({
    summary: 'Send a project budget for acceptance ("Send to ERP"): 202 with the submission in ingesting',
    description:
      'Supersedes a ready_to_export submission of the project (`supersededSubmissionId` names it); 409 while another one is open. When the budget is identical to what the ready_to_export submission holds, nothing is created: 200 with that submission and `unchanged: true`. The budget is locked in Procore if needed and snapshotted from the queue.',
  })
  @ApiAcceptedResponse({ type: SentBudgetDto, description: 'A new submission, ingesting' })
  @ApiOkResponse({ type: SentBudgetDto, description: 'The open ready_to_export submission already holds this very budget (`unchanged: true`): nothing created' })
  @ApiErrors(400, 403, 409)
  async send(@Body() body: SendBudgetDto, @CurrentUser() user: User, @Res({ passthrough: true }) response: Response): Promise<SentBudget> {
    const sent = await this.sender.send(body.procoreProjectId, user);
    if (sent.unchanged) response.status(200);
    return sent;
  }
}
