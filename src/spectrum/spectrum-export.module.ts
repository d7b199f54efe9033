import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { BudgetPreview } from './budget-preview.service';
import { ExportSubmissionJob } from './export-submission.job';
import { PreviewController } from './preview.controller';
import { SpectrumExporter } from './spectrum-exporter.service';

/**
 * Export to Spectrum (the ExportSubmission job, through the driver in force) and the export
 * preview. Needs SpectrumModule.forRoot (client, semaphore, driver) imported by the application.
 */
@Module({
  imports: [BudgetsModule],
  controllers: [PreviewController],
  providers: [SpectrumExporter, ExportSubmissionJob, BudgetPreview],
  exports: [SpectrumExporter, BudgetPreview],
})
export class SpectrumExportModule {}
