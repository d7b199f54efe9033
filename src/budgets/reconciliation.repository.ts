import { Injectable } from '@nestjs/common';
import { Cents, formatMoney, toCents } from '../common/money';
import { bound, Repository } from '../database/repository';
import { Reconciliation, ReconciliationOutcome, ReconciliationRowResult } from './reconciliation.entity';

export interface NewReconciliation {
  submissionId: string;
  outcome: ReconciliationOutcome;
  companyCode: string;
  job: string;
  procoreRevisedTotal: Cents;
  spectrumEstimatedTotal: Cents;
  varianceCount: number;
  tolerance: Cents;
  explanation: string;
  rows: ReconciliationRowResult[];
}

/** The latest report without its rows, and the first rows that do not match (the console's page). */
export interface ReportSummary {
  id: string;
  ranAt: Date;
  outcome: ReconciliationOutcome;
  companyCode: string;
  job: string;
  procoreRevisedTotal: Cents;
  spectrumEstimatedTotal: Cents;
  varianceCount: number;
  tolerance: Cents;
  explanation: string;
  rowCount: number;
  variances: ReconciliationRowResult[];
}

/**
 * Reconciliation reports (`reconciliation`): what reading Spectrum back concluded, each time. Part
 * of the submission's record: the unlock gate and a retry's rows to rewrite are read from here.
 */
@Injectable()
export class ReconciliationRepository extends Repository {
  /** Stores a report; returns its id. Plain SQL: a 20 000-row report is megabytes of JSON the ORM need not track. */
  async insert(report: NewReconciliation): Promise<string> {
    const [inserted] = await bound<{ id: string }>(
      this.em,
      `insert into reconciliation (submission_id, ran_at, outcome, company_code, job, procore_revised_total,
                                   spectrum_estimated_total, variance_count, tolerance, explanation, rows)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb) returning id`,
      [
        report.submissionId,
        new Date(),
        report.outcome,
        report.companyCode,
        report.job,
        formatMoney(report.procoreRevisedTotal),
        formatMoney(report.spectrumEstimatedTotal),
        report.varianceCount,
        formatMoney(report.tolerance),
        report.explanation,
        JSON.stringify(report.rows),
      ],
    );
    return String(inserted.id);
  }

  /** The latest report of a submission (optionally with this outcome). */
  latest(submissionId: string, outcome?: ReconciliationOutcome): Promise<Reconciliation | null> {
    return this.em.findOne(Reconciliation, { submission: submissionId, ...(outcome ? { outcome } : {}) }, { orderBy: { ranAt: 'desc', id: 'desc' } });
  }

  /** The latest report's outcome and time, without its rows. */
  async latestOutcome(submissionId: string): Promise<{ outcome: ReconciliationOutcome; ranAt: Date; explanation: string; notInBudget: number } | null> {
    const [latest] = await this.em.execute<Array<{ outcome: ReconciliationOutcome; ran_at: Date; explanation: string; not_in_budget: string | number }>>(
      `select outcome, ran_at, explanation,
              (select count(*) from jsonb_array_elements(rows) as e where e->>'status' = 'not_in_budget') as not_in_budget
         from reconciliation where submission_id = ? order by ran_at desc, id desc limit 1`,
      [submissionId],
    );
    return latest ? { outcome: latest.outcome, ranAt: new Date(latest.ran_at), explanation: latest.explanation, notInBudget: Number(latest.not_in_budget) } : null;
  }

  /**
   * The latest report with its first `shown` rows that do not match, picked out in PostgreSQL: a
   * 20,000-row report is megabytes of JSON a page does not need.
   */
  async latestSummary(submissionId: string, shown: number): Promise<ReportSummary | null> {
    const [report] = await this.em.execute<SummaryRecord[]>(
      `select r.id, r.ran_at, r.outcome, r.company_code, r.job, r.procore_revised_total::text as procore_revised_total,
              r.spectrum_estimated_total::text as spectrum_estimated_total, r.variance_count, r.tolerance::text as tolerance, r.explanation,
              jsonb_array_length(r.rows) as row_count,
              (select coalesce(jsonb_agg(v.e), '[]'::jsonb)
                 from (select e from jsonb_array_elements(r.rows) with ordinality as a(e, n) where e->>'status' <> 'matched' order by n limit ?) v) as variances
         from reconciliation r where r.submission_id = ? order by r.ran_at desc, r.id desc limit 1`,
      [shown, submissionId],
    );
    if (!report) return null;
    return {
      id: String(report.id),
      ranAt: new Date(report.ran_at),
      outcome: report.outcome,
      companyCode: report.company_code,
      job: report.job,
      procoreRevisedTotal: toCents(report.procore_revised_total),
      spectrumEstimatedTotal: toCents(report.spectrum_estimated_total),
      varianceCount: report.variance_count,
      tolerance: toCents(report.tolerance),
      explanation: report.explanation,
      rowCount: Number(report.row_count),
      variances: (typeof report.variances === 'string' ? JSON.parse(report.variances) : report.variances) as ReconciliationRowResult[],
    };
  }
}

interface SummaryRecord {
  id: string;
  ran_at: Date | string;
  outcome: ReconciliationOutcome;
  company_code: string;
  job: string;
  procore_revised_total: string;
  spectrum_estimated_total: string;
  variance_count: number;
  tolerance: string;
  explanation: string;
  row_count: string | number;
  variances: ReconciliationRowResult[] | string;
}
