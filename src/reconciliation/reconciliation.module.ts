import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { QueueModule } from '../queue/queue.module';
import { SpectrumModule } from '../spectrum/spectrum.module';
import { ReconcileSubmissionJob } from './reconcile-submission.job';
import { ReconcileSweepJob } from './reconcile-sweep.job';
import { ReconciliationReports } from './reconciliation-reports.service';
import { ReconciliationService } from './reconciliation.service';

/**
 * Reconciliation: reading Spectrum back after export and on schedule (ReconcileSubmission,
 * ReconcileSweep) and judging it; the conclusion goes to the budgets module (RecordReconciliation).
 * The stored reports are read through ReconciliationReports.
 */
@Module({
  imports: [BudgetsModule, QueueModule, SpectrumModule],
  providers: [ReconciliationService, ReconciliationReports, ReconcileSubmissionJob, ReconcileSweepJob],
  exports: [ReconciliationService, ReconciliationReports],
})
export class ReconciliationModule {}
