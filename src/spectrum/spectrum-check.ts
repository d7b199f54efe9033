import { EXPORT_ERROR_CODES } from './export.errors';
import { findJob } from './export-plan';
import { superSelectProblem } from './client/spectrum-limits';
import { SpectrumJob } from './client/spectrum-records';
import { SpectrumSoapClient } from './client/spectrum-soap.client';

/**
 * "Check Spectrum before writing" (docs/architecture.md, "Flagged at accept"): the job of every
 * row must exist in Spectrum and not be Complete. The preview shows the result; the export makes
 * the same check before its first AddPhase and, when a job fails it, writes nothing.
 */

export interface JobCheck {
  job: string;
  /** The job as GetJob listed it (Complete ones included), when it did. */
  found?: SpectrumJob;
  /** Set when nothing may be written to the job. */
  problem?: { code: string; message: string };
}

/**
 * GetJob with a blank status lists Active and Inactive jobs only (docs/spectrum.md, "Reads"; Spectrum's Get
 * Job help page), so a job it does not list is looked up once more among the Complete ones, to
 * tell "Complete" from "not found". Every read is complete or throws (never "job missing" from a
 * cut-off list).
 */
export async function checkJobs(client: SpectrumSoapClient, jobs: string[]): Promise<JobCheck[]> {
  const usable = jobs.filter((job) => !superSelectProblem(job));
  const open = usable.length ? await client.getJobs() : [];
  const missing = usable.filter((job) => !findJob(open, job));
  const complete = missing.length ? await client.getJobs('C') : [];
  return jobs.map((job) => {
    const unusable = superSelectProblem(job);
    if (unusable) return { job, problem: { code: EXPORT_ERROR_CODES.jobUnusable, message: `Job ${job} cannot be read from Spectrum: ${unusable}` } };
    const listed = findJob(open, job) ?? findJob(complete, job);
    if (!listed) {
      return {
        job,
        problem: {
          code: EXPORT_ERROR_CODES.jobNotFound,
          message: `Job ${job} not found in Spectrum: it is not among the company's Active, Inactive or Complete jobs; map the project to an existing job, or add the job in Spectrum`,
        },
      };
    }
    if (listed.statusCode === 'C') {
      return {
        job,
        found: listed,
        problem: {
          code: EXPORT_ERROR_CODES.jobComplete,
          message: `Job ${job} is Complete in Spectrum: Spectrum adds no phases to a Complete job; reopen the job in Spectrum, or map the project to another job`,
        },
      };
    }
    return { job, found: listed };
  });
}
