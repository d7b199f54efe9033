import type { User } from '../../users/user.entity';
import { BudgetsException, BudgetsExceptionCode } from '../budgets.exception';
import { Submission } from '../submission.entity';
import { SubmissionRepository } from '../submission.repository';

/** What an approver's decision needs: the submission and who decides. */
export interface DecisionCommand {
  submissionId: string;
  user: User;
}

/** A decision with a reason (reject, acknowledge). */
export interface ReasonedDecisionCommand extends DecisionCommand {
  reason: string;
}

/** The submission a decision is about, with its people; SubmissionNotFound when there is none. */
export async function submissionToDecide(submissions: SubmissionRepository, id: string): Promise<Submission> {
  const submission = await submissions.findWithPeople(id);
  if (!submission) throw notFound(id);
  return submission;
}

export function notFound(id: string): BudgetsException {
  return new BudgetsException(BudgetsExceptionCode.SubmissionNotFound, `Budget submission ${id} does not exist`);
}
