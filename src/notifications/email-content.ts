import { Cents } from '../common/money';
import type { VarianceStatus } from '../budgets/reconciliation.entity';

export type { VarianceStatus };

/**
 * The view model of each email: exactly what its templates show, nothing read from elsewhere.
 * Every field is required (templates run in strict mode); a value that may be absent is typed
 * `| null` and the templates say what null means. Money is bigint cents, dates are Dates; the
 * templates format both (see TemplateRenderer).
 */

export const EMAIL_KINDS = ['daily-summary', 'rejected', 're-sent', 'failed-to-export', 'out-of-sync'] as const;
export type EmailKind = (typeof EMAIL_KINDS)[number];

/** A person as emails name them. */
export interface EmailPerson {
  name: string;
  email: string | null;
}

/** Who the email is addressed to (the greeting; null greets without a name). */
export interface EmailRecipient {
  name: string | null;
}

/** One submission as the emails describe it. */
export interface SubmissionSummary {
  /** Submission id: links go to the console page `/console/budgets/<id>`. */
  id: string;
  projectName: string;
  /** Spectrum job; several jobs comma-separated when the budget spans more than one. */
  job: string;
  /** Null when the submission came from a poll rather than a person. */
  sender: EmailPerson | null;
  sentAt: Date;
  /** Number of Procore budget lines. */
  lineCount: number;
  /** Total revised estimate of the submission. */
  revisedEstimate: Cents;
}

/** "ERP Integrations Daily Summary": everything awaiting acceptance. */
export interface DailySummaryEmail {
  recipient: EmailRecipient;
  /** When the summary was prepared ("as of"). */
  generatedAt: Date;
  /** Submissions in `ready_to_export`, oldest first; never empty (no summary is sent then). */
  submissions: SubmissionSummary[];
}

/** To the budget's creator and its sender after an approver rejected it. */
export interface RejectedEmail {
  recipient: EmailRecipient;
  submission: SubmissionSummary;
  rejectedBy: EmailPerson;
  rejectedAt: Date;
  /** The approver's reason, verbatim (1–2,000 characters, may span lines). */
  reason: string;
}

/** To approvers when a project whose last submission was rejected or retrieved is sent again. */
export interface ReSentEmail {
  recipient: EmailRecipient;
  submission: SubmissionSummary & {
    originalBudget: Cents;
    budgetChanges: Cents;
  };
  previous: {
    status: 'rejected' | 'retrieved';
    /** When it was rejected or retrieved. */
    at: Date;
    by: EmailPerson | null;
    /** The rejection reason; null for a retrieval. */
    reason: string | null;
  };
}

/** One Spectrum row that failed to export. */
export interface ExportRowError {
  job: string;
  phase: string;
  costType: string;
  /** Spectrum's error code (A, I, M, …); null for a transport fault. */
  code: string | null;
  message: string;
  /** The Spectrum column the error names; null when it names none. */
  column: string | null;
}

/** To approvers and the sender when an export ended `failed_to_export`. */
export interface FailedToExportEmail {
  recipient: EmailRecipient;
  submission: SubmissionSummary;
  failedAt: Date;
  /** Rows written to Spectrum and the submission's total rows. */
  rowsWritten: number;
  rowsTotal: number;
  errors: ExportRowError[];
}

/** One row of a reconciliation that does not match. */
export interface VarianceRow {
  job: string;
  phase: string;
  costType: string;
  description: string;
  /** Null for a Spectrum row that is not in the budget. */
  procoreRevised: Cents | null;
  /** Null for a row missing in Spectrum. */
  spectrumEstimated: Cents | null;
  /** Spectrum estimated minus Procore revised (a missing side counts as 0.00). */
  variance: Cents;
  /** As the reconciliation report has it: amount_differs, missing_in_spectrum, not_in_budget. */
  status: VarianceStatus;
}

/** To approvers and the sender when reconciliation found Spectrum differs from the export. */
export interface OutOfSyncEmail {
  recipient: EmailRecipient;
  submission: SubmissionSummary;
  reconciledAt: Date;
  spectrumCompany: string;
  variances: VarianceRow[];
  totals: {
    procoreRevised: Cents;
    spectrumEstimated: Cents;
    variance: Cents;
  };
  /** The report's plain explanation, e.g. "Spectrum kept its current estimates: …". */
  explanation: string;
}

export interface EmailModels {
  'daily-summary': DailySummaryEmail;
  rejected: RejectedEmail;
  're-sent': ReSentEmail;
  'failed-to-export': FailedToExportEmail;
  'out-of-sync': OutOfSyncEmail;
}

/** The links emails carry, all under PUBLIC_URL. */
export function budgetLinks(publicUrl: string) {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    home: base,
    // Pages of the approver console: a visitor without a session signs in and comes back here.
    budget: (id: string) => `${base}/console/budgets/${encodeURIComponent(id)}`,
    budgetList: (status: string) => `${base}/console/budgets?status=${encodeURIComponent(status)}`,
    reconciliation: (id: string) => `${base}/console/budgets/${encodeURIComponent(id)}/reconciliation.html`,
  };
}
