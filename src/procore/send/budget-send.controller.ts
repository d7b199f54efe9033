import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentUser, RequirePermission } from '../../users/auth.decorators';
import { User } from '../../users/user.entity';
import { BudgetSender } from './budget-sender.service';
import { SendBudgetDto } from './send-budget.dto';

@ApiTags('budgets')
@ApiBearerAuth()
@Controller('api/v1/budgets')
export class BudgetSendController {
  constructor(private readonly sender: BudgetSender) {}

  @Post()
  @HttpCode(202)
  @RequirePermission('send')
  @ApiOperation({
    summary: 'Send a project budget for acceptance ("Send to ERP"): 202 with the submission in ingesting',
    description:
      'Supersedes a ready_to_export submission of the project; 409 while another one is open. The budget is locked in Procore if needed and snapshotted from the queue.',
  })
  send(@Body() body: SendBudgetDto, @CurrentUser() user: User) {
    return this.sender.send(body.procoreProjectId, user);
  }
}
