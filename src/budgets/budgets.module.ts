import { Module } from '@nestjs/common';
import { BudgetDecisions } from './budget-decisions.service';
import { BudgetQueries } from './budget-queries.service';
import { BudgetsController } from './budgets.controller';
import { SubmissionStateMachine } from './submission-state-machine';

@Module({
  controllers: [BudgetsController],
  providers: [BudgetQueries, BudgetDecisions, SubmissionStateMachine],
  exports: [BudgetQueries, BudgetDecisions, SubmissionStateMachine],
})
export class BudgetsModule {}
