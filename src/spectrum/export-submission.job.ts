import { Injectable } from '@nestjs/common';
import { JobContext, JobHandler } from '../queue/job-handler.decorator';
import { JobName, JobPayloads } from '../queue/queue.contract';
import { ExportSummary, SpectrumExporter } from './spectrum-exporter.service';

/** Exports one accepted submission to Spectrum (see SpectrumExporter). */
@Injectable()
export class ExportSubmissionJob {
  constructor(private readonly exporter: SpectrumExporter) {}

  @JobHandler(JobName.ExportSubmission)
  handle(payload: JobPayloads[JobName.ExportSubmission], context: JobContext): Promise<ExportSummary> {
    return this.exporter.export(payload.submissionId, { finalAttempt: context.finalAttempt });
  }
}
