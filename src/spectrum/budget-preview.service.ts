import { Injectable } from '@nestjs/common';
import { BudgetsException, BudgetsExceptionCode } from '../budgets/budgets.exception';
import { SnapshotRepository } from '../budgets/snapshot.repository';
import type { SpectrumRow } from '../budgets/submission-row.entity';
import { SubmissionRepository } from '../budgets/submission.repository';
import { formatMoney } from '../common/money';
import { AppConfig } from '../config/app-config';
import { actionFor, checkRows, jobsOf, planExport } from './export-plan';
import { checkJobs, JobCheck } from './spectrum-check';
import { SpectrumPermitTimeoutError, SpectrumSemaphore } from './client/spectrum-concurrency';
import { SpectrumPhase } from './client/spectrum-records';
import { SpectrumRowIndex } from './spectrum-row-index';
import { SpectrumSoapClient } from './client/spectrum-soap.client';
import { SpectrumError, SpectrumException, SpectrumExceptionCode } from './client/spectrum.errors';

export type PreviewChange = 'new' | 'changed' | 'unchanged' | 'removed';

/** How long a preview waits for a Spectrum permit while exports hold them all. */
const PERMIT_WAIT_MS = 20_000;

/**
 * The dry run of an export (GET /api/v1/budgets/:id/preview): the same GetJob and GetPhase reads
 * and the same checks the exporter makes before its first AddPhase, and for each row whether
 * Spectrum lacks it (new), shows another current estimate (changed), already shows the revised
 * estimate (unchanged), or holds a row this version no longer has (removed: set to 0.00, with the
 * amount it drops). Every problem that would make the export write nothing is listed on its row
 * and in `problems` (`exportable: false`). Nothing is written.
 */
@Injectable()
export class BudgetPreview {
  constructor(
    private readonly submissions: SubmissionRepository,
    private readonly snapshots: SnapshotRepository,
    private readonly config: AppConfig,
    private readonly client: SpectrumSoapClient,
    private readonly semaphore: SpectrumSemaphore,
  ) {}

  async preview(submissionId: string) {
    const status = await this.submissions.statusOf(submissionId);
    if (!status) throw new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${submissionId} does not exist`);
    const rows = (await this.snapshots.rows(submissionId)).filter((row) => row.job && row.phase && row.costType);
    const jobs = jobsOf(rows);
    const { checks, phases } = await this.read(jobs);
    const index = new SpectrumRowIndex(phases);
    const jobProblems = new Map(checks.filter((check) => check.problem).map((check) => [check.job, check.problem!.message]));
    const costTypes = this.config.spectrum.costTypes;
    const flags = checkRows(
      rows.filter((row) => !jobProblems.has(row.job)),
      index,
      { costTypes },
    );
    const flagsByRow = new Map<string, string[]>();
    for (const flag of flags) flagsByRow.set(flag.row.id, [...(flagsByRow.get(flag.row.id) ?? []), flag.message]);
    const nothingToDo = new Set(planExport(rows, index, this.config.spectrum.priceMethodCode).nothingToDo.map((row) => row.id));

    const summary = { new: 0, changed: 0, unchanged: 0, removed: 0, flagged: 0 };
    let removedTotal = 0n;
    const presented = rows.map((row) => {
      const records = index.find(row.job, row.phase, row.costType);
      const spectrum = records.length === 1 ? records[0] : undefined;
      const estimate = spectrum?.currentEstimateDollars ?? null;
      const change: PreviewChange = row.removed
        ? 'removed'
        : !records.length
          ? 'new'
          : estimate === row.revisedEstimate
            ? 'unchanged'
            : 'changed';
      summary[change]++;
      const drops = row.removed && !nothingToDo.has(row.id) ? estimate : null;
      if (drops !== null) removedTotal += drops;
      const problems = [...(jobProblems.has(row.job) ? [jobProblems.get(row.job)!] : []), ...(flagsByRow.get(row.id) ?? [])];
      if (problems.length) summary.flagged++;
      return {
        job: row.job,
        phase: row.phase,
        costType: row.costType,
        description: row.description,
        originalBudget: formatMoney(row.originalBudget),
        revisedEstimate: formatMoney(row.revisedEstimate),
        spectrumEstimated: estimate === null ? null : formatMoney(estimate),
        spectrumDescription: spectrum?.description ?? null,
        spectrumPhase: index.resolvePhase(row.job, row.phase).code ?? null,
        spectrumStatus: spectrum?.statusCode ?? null,
        change,
        spectrumAction: row.removed ? (nothingToDo.has(row.id) ? null : 'update') : actionFor(row, index),
        removed: row.removed,
        /** For a removed row: the current estimate the export sets to 0.00 (null when there is nothing to drop). */
        drops: drops === null ? null : formatMoney(drops),
        problems,
        notes: this.notes(row, records, index, costTypes),
      };
    });
    const problems = [...new Set([...jobProblems.values(), ...flags.map((flag) => flag.message)])];
    return {
      submissionId,
      status,
      spectrumCompany: this.client.companyCode,
      readAt: new Date().toISOString(),
      exportable: problems.length === 0,
      problems,
      jobs: checks.map((check) => ({
        job: check.job,
        inSpectrum: !!check.found,
        statusCode: check.found?.statusCode ?? null,
        description: check.found?.description ?? null,
        exportable: !check.problem,
        problem: check.problem?.message ?? null,
      })),
      summary,
      /** What the removed rows drop from Spectrum's current estimates, together. */
      removedTotal: formatMoney(removedTotal),
      rows: presented,
    };
  }

  /** Hints that do not stop the export. */
  private notes(row: SpectrumRow, records: SpectrumPhase[], index: SpectrumRowIndex, costTypes: ReadonlySet<string> | null): string[] {
    const notes: string[] = [];
    const resolved = index.resolvePhase(row.job, row.phase);
    if (resolved.filled && resolved.code) notes.push(`Spectrum stores phase ${row.phase} as ${resolved.code} (filled to the job's phase mask)`);
    if (records.length > 1) notes.push(`Spectrum returned ${records.length} records for this row`);
    for (const record of records) {
      if (record.problems?.length) notes.push(`Spectrum's record could not be read: ${record.problems.join('; ')}`);
    }
    if (row.removed && !records.length) notes.push('Spectrum no longer holds this row: there is nothing to set to 0.00');
    // Without SPECTRUM_COST_TYPES the connector cannot know the company's cost types; a cost type
    // no phase of the job uses yet is worth a look before accepting.
    if (!costTypes && !row.removed && !index.jobUsesCostType(row.job, row.costType)) {
      notes.push(
        `No phase of job ${row.job} uses cost type ${row.costType} yet: check that it exists in Spectrum's Cost Type File Maintenance (or set SPECTRUM_COST_TYPES)`,
      );
    }
    return notes;
  }

  private async read(jobs: string[]): Promise<{ checks: JobCheck[]; phases: SpectrumPhase[] }> {
    try {
      return await this.semaphore.withPermit(
        async () => {
          const checks = jobs.length ? await checkJobs(this.client, jobs) : [];
          const phases: SpectrumPhase[] = [];
          for (const check of checks) if (!check.problem) phases.push(...(await this.client.getPhases(check.job)));
          return { checks, phases };
        },
        { timeoutMs: PERMIT_WAIT_MS },
      );
    } catch (error) {
      if (error instanceof SpectrumPermitTimeoutError) {
        throw new SpectrumException(SpectrumExceptionCode.Busy, 'Spectrum is busy with exports right now; try the preview again in a minute');
      }
      if (error instanceof SpectrumError) {
        throw new SpectrumException(SpectrumExceptionCode.Unreadable, `Spectrum could not be read for the preview: ${error.message}`);
      }
      throw error;
    }
  }
}
