import { EntityManager } from '@mikro-orm/postgresql';
import { Injectable } from '@nestjs/common';
import { ServiceUnavailableError } from '../common/app-error';
import { NotFoundError } from '../common/app-error';
import { formatMoney } from '../common/money';
import { Submission } from '../budgets/submission.entity';
import { actionFor, findJob, indexPhases, jobsOf, loadExportRows, rowKey, SpectrumAction } from './export-plan';
import { SpectrumPermitTimeoutError, SpectrumSemaphore } from './spectrum-concurrency';
import { SpectrumJob, SpectrumPhase } from './spectrum-records';
import { SpectrumSoapClient } from './spectrum-soap.client';
import { SpectrumError } from './spectrum.errors';

export type PreviewChange = 'new' | 'changed' | 'unchanged';

/** How long a preview waits for a Spectrum permit while exports hold them all. */
const PERMIT_WAIT_MS = 20_000;

/**
 * The dry run of an export (GET /api/v1/budgets/:id/preview): the same GetJob and GetPhase reads
 * the exporter makes, and for each row whether Spectrum lacks it (new), shows another current
 * estimate (changed) or already shows the revised estimate (unchanged). Nothing is written.
 */
@Injectable()
export class BudgetPreview {
  constructor(
    private readonly em: EntityManager,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
  ) {}

  async preview(submissionId: string) {
    const em = this.em.fork();
    const submission = await em.findOne(Submission, submissionId, { fields: ['id', 'status'] });
    if (!submission) throw new NotFoundError(`Budget submission ${submissionId} does not exist`);
    const rows = (await loadExportRows(em, submissionId)).filter((row) => row.job && row.phase && row.costType);
    const jobs = jobsOf(rows);
    const { spectrumJobs, phases } = await this.read(jobs);
    const index = indexPhases(phases);

    const summary = { new: 0, changed: 0, unchanged: 0 };
    const presented = rows.map((row) => {
      const spectrum = index.rows.get(rowKey(row.job, row.phase, row.costType));
      const change: PreviewChange = !spectrum
        ? 'new'
        : spectrum.currentEstimateDollars === row.revisedEstimate
          ? 'unchanged'
          : 'changed';
      summary[change]++;
      const action: SpectrumAction = actionFor(row, index);
      return {
        job: row.job,
        phase: row.phase,
        costType: row.costType,
        description: row.description,
        originalBudget: formatMoney(row.originalBudget),
        revisedEstimate: formatMoney(row.revisedEstimate),
        spectrumEstimated: spectrum ? formatMoney(spectrum.currentEstimateDollars) : null,
        spectrumDescription: spectrum?.description ?? null,
        change,
        spectrumAction: action,
      };
    });
    return {
      submissionId,
      status: submission.status,
      spectrumCompany: this.client.companyCode,
      readAt: new Date().toISOString(),
      jobs: jobs.map((job) => {
        const found = findJob(spectrumJobs, job);
        const exportable = !!found && found.statusCode !== 'C';
        return {
          job,
          inSpectrum: !!found,
          statusCode: found?.statusCode ?? null,
          description: found?.description ?? null,
          exportable,
          problem: exportable ? null : `Job ${job} not found or Complete in Spectrum: the export would fail for its rows`,
        };
      }),
      summary,
      rows: presented,
    };
  }

  private async read(jobs: string[]): Promise<{ spectrumJobs: SpectrumJob[]; phases: SpectrumPhase[] }> {
    try {
      return await this.semaphore.withPermit(
        async () => {
          const spectrumJobs = jobs.length ? await this.client.getJobs() : [];
          const phases: SpectrumPhase[] = [];
          for (const job of jobs) phases.push(...(await this.client.getPhases(job)));
          return { spectrumJobs, phases };
        },
        { timeoutMs: PERMIT_WAIT_MS },
      );
    } catch (error) {
      if (error instanceof SpectrumPermitTimeoutError) {
        throw new ServiceUnavailableError('Spectrum is busy with exports right now; try the preview again in a minute');
      }
      if (error instanceof SpectrumError) {
        throw new ServiceUnavailableError(`Spectrum could not be read for the preview: ${error.message}`);
      }
      throw error;
    }
  }
}
