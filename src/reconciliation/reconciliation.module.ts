import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { ReconcileSubmissionJob } from './reconcile-submission.job';
import { ReconcileSweepJob } from './reconcile-sweep.job';
import { ReconciliationController } from './reconciliation.controller';
import { ReconciliationReports } from './reconciliation-reports.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * Reconciliation: reading Spectrum back after export and on schedule (ReconcileSubmission,
 * ReconcileSweep), and the report API. Needs SpectrumModule.forRoot imported by the application.
 */
@Module({
  imports: [BudgetsModule],
  controllers: [ReconciliationController],
  providers: [ReconciliationService, ReconciliationReports, ReconcileSubmissionJob, ReconcileSweepJob],
  exports: [ReconciliationService, ReconciliationReports],
})
export class ReconciliationModule {}
