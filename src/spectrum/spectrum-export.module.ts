import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { BudgetPreview } from './budget-preview.service';
import { ExportSubmissionJob } from './export-submission.job';
import { FileExportWriter } from './file-export.writer';
import { PreviewController } from './preview.controller';
import { SoapExportWriter } from './soap-export.writer';
import { SpectrumExporter } from './spectrum-exporter.service';

/**
 * Export to Spectrum (the ExportSubmission job, over SOAP or as transfer files) and the export
 * preview. Needs SpectrumModule.forRoot (client and semaphore) imported by the application.
 */
@Module({
  imports: [BudgetsModule],
  controllers: [PreviewController],
  providers: [SpectrumExporter, SoapExportWriter, FileExportWriter, ExportSubmissionJob, BudgetPreview],
  exports: [SpectrumExporter, BudgetPreview],
})
export class SpectrumExportModule {}
