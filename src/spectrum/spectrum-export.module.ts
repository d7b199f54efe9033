import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { DatabaseModule } from '../database/database.module';
import { ProcessShutdownModule } from '../lifecycle/process-shutdown';
import { BudgetPreview } from './budget-preview.service';
import { ExportSubmissionJob } from './export-submission.job';
import { SpectrumExporter } from './spectrum-exporter.service';
import { SpectrumModule } from './spectrum.module';
import { ObservabilityModule } from '../observability/observability.module';

/**
 * Export to Spectrum (the ExportSubmission job, through the driver in force) and the export
 * preview. The outcome of each run goes to the budgets module (RecordExportOutcome).
 */
@Module({
  imports: [BudgetsModule, DatabaseModule, ObservabilityModule, ProcessShutdownModule, SpectrumModule],
  providers: [SpectrumExporter, ExportSubmissionJob, BudgetPreview],
  exports: [SpectrumExporter, BudgetPreview],
})
export class SpectrumExportModule {}
