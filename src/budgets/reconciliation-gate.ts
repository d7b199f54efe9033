import { Injectable } from '@nestjs/common';
import { AuditEventRepository } from '../audit/audit-event.repository';
import { ReconciliationRepository } from './reconciliation.repository';

/** How the explanation of a reconciliation that could not read Spectrum starts. */
export const SPECTRUM_UNREADABLE = 'Spectrum could not be read:';

/**
 * What the reconciliation record decides about a submission: whether it may be unlocked, and why a
 * retry from out_of_sync would write nothing.
 */
@Injectable()
export class ReconciliationGate {
  constructor(
    private readonly reconciliations: ReconciliationRepository,
    private readonly audit: AuditEventRepository,
  ) {}

  /**
   * Why an unlock is refused, or null when the latest reconciliation result is synced — or was out
   * of sync and an admin acknowledged the variance after it (an acknowledged variance counts as synced).
   */
  async unlockRefusal(submissionId: string): Promise<string | null> {
    const latest = await this.reconciliations.latestOutcome(submissionId);
    if (!latest) {
      return 'The budget can be unlocked only once a reconciliation has shown Spectrum holds the exported amounts, and none has run for it';
    }
    if (latest.outcome === 'synced') return null;
    if (latest.outcome === 'out_of_sync' && (await this.audit.lastEntryAction(submissionId, 'synced')) === 'acknowledge') return null;
    return `The budget can be unlocked only when the latest reconciliation is synced; the latest (${latest.ranAt.toISOString()}) is ${latest.outcome.replace(/_/g, ' ')}`;
  }

  /**
   * Why a retry from out_of_sync would write nothing (no row to write again), as the refusal's
   * message: every variance of the latest reconciliation is on the Spectrum side (rows the budget
   * lacks), or Spectrum could not be read.
   */
  async nothingToRewrite(submissionId: string): Promise<string> {
    const latest = await this.reconciliations.latestOutcome(submissionId);
    const base = 'Retrying would write nothing: every row of this budget is already written to Spectrum as exported';
    if (!latest) return `${base}. Reject the budget, or have an admin acknowledge the variance.`;
    if (latest.explanation.startsWith(SPECTRUM_UNREADABLE)) {
      return `${base}, and the latest reconciliation could not read Spectrum (${latest.explanation}). Reconciliation reads Spectrum again on its schedule; an admin may acknowledge the variance with a reason.`;
    }
    const why = latest.notInBudget
      ? `; the variance is ${latest.notInBudget} Spectrum row(s) that carry an estimate but are not in this budget, which an export does not touch`
      : '';
    return `${base}${why}. Reject the budget and send a corrected one, or have an admin acknowledge the variance.`;
  }
}
