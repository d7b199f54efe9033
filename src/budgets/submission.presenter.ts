import { presentPerson } from '../audit/actor';
import { HistoryEntry } from '../audit/audit-event.repository';
import { formatMoney } from '../common/money';
import { LineOnPage } from './snapshot.repository';
import { SubmissionView } from './submission-view';
import { SpectrumRow } from './submission-row.entity';

export { presentPerson };

/** The submission as integrators script against it: ids and money as strings. */
export function presentSubmission(submission: SubmissionView) {
  return {
    id: submission.id,
    status: submission.status,
    procoreProjectId: submission.procoreProjectId,
    projectName: submission.projectName,
    job: submission.job ?? null,
    source: submission.source,
    sentBy: presentPerson(submission.sentBy),
    createdBy: presentPerson(submission.createdBy),
    sentAt: submission.sentAt.toISOString(),
    decidedBy: presentPerson(submission.decidedBy),
    decidedAt: submission.decidedAt?.toISOString() ?? null,
    rejectionReason: submission.rejectionReason ?? null,
    statusChangedAt: submission.statusChangedAt.toISOString(),
    unlockedAt: submission.unlockedAt?.toISOString() ?? null,
    unlockedBy: presentPerson(submission.unlockedBy),
    ingestError: submission.ingestError ?? null,
    lineCount: submission.lineCount,
    rowCount: submission.rowCount,
    problemCount: submission.problemCount,
    totals: {
      originalBudget: formatMoney(submission.originalBudget),
      budgetChanges: formatMoney(submission.budgetChanges),
      revisedEstimate: formatMoney(submission.revisedEstimate),
    },
  };
}

export function presentLine(line: LineOnPage) {
  return {
    procoreLineId: line.procoreLineId ?? null,
    costCode: line.costCode,
    category: line.category,
    description: line.description,
    originalBudget: formatMoney(line.originalBudget),
    budgetChanges: formatMoney(line.budgetChanges),
    revisedEstimate: formatMoney(line.revisedEstimate),
    job: line.job ?? null,
    phase: line.phase ?? null,
    costType: line.costType ?? null,
    problems: line.problems,
    notes: line.notes,
  };
}

export function presentRow(row: SpectrumRow) {
  return {
    job: row.job || null,
    phase: row.phase || null,
    costType: row.costType || null,
    description: row.description,
    originalBudget: formatMoney(row.originalBudget),
    revisedEstimate: formatMoney(row.revisedEstimate),
    lineCount: row.lineCount,
    problems: row.problems,
    exportState: row.exportState,
    error: row.exportError ?? null,
    /** A row an earlier export wrote that this version lacks: the export sets it to 0.00. */
    removed: row.removed,
    removedEstimate: row.removedEstimate === null || row.removedEstimate === undefined ? null : formatMoney(row.removedEstimate),
    writtenAt: row.writtenAt?.toISOString() ?? null,
  };
}

/** An event of the history (an AuditEvent with its actor is one too). */
type HistoryEvent = Pick<HistoryEntry, 'createdAt' | 'actorLabel' | 'action'> & Partial<Pick<HistoryEntry, 'actor' | 'fromStatus' | 'toStatus' | 'note'>>;

export function presentHistory(event: HistoryEvent) {
  return {
    at: event.createdAt.toISOString(),
    actor: event.actor ? presentPerson(event.actor) : { id: null, name: event.actorLabel, email: null },
    action: event.action,
    from: event.fromStatus ?? null,
    to: event.toStatus ?? null,
    note: event.note ?? null,
  };
}
