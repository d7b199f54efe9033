import { Injectable } from '@nestjs/common';
import { StoredSnapshot } from '../../budgets/budget-snapshot';
import { RemapResult, RemapSubmission } from '../../budgets/use-cases/remap-submission';
import { User } from '../../users/user.entity';
import { mapReadBudget, ReadBudget, ReadLine } from '../mapping/budget-mapping';
import { MappingStore } from '../mapping/mapping-store';

export type { RemapResult };

/**
 * Applies the mapping in force (MAPPING_FILE as now read) to a submission awaiting acceptance or
 * failed to export, from its stored snapshot alone (RemapSubmission stores the result and says what
 * changed): the mapping is Procore's side, the snapshot the submission's.
 */
@Injectable()
export class BudgetRemap {
  constructor(
    private readonly mapping: MappingStore,
    private readonly remapSubmission: RemapSubmission,
  ) {}

  remap(id: string, user: User): Promise<RemapResult> {
    return this.remapSubmission.execute({
      submissionId: id,
      user,
      map: (snapshot) => ({ budget: mapReadBudget(readBudgetOf(snapshot), this.mapping.current()), version: this.mapping.version() }),
    });
  }
}

/** The budget as its snapshot holds it: every mapping input, read from Procore when it was sent. */
function readBudgetOf(snapshot: StoredSnapshot): ReadBudget {
  return {
    project: { id: snapshot.procoreProjectId, name: snapshot.projectName, originId: snapshot.projectOriginId, projectNumber: snapshot.projectNumber },
    lines: snapshot.lines.map(
      (line): ReadLine => ({
        procoreLineId: line.procoreLineId,
        costCodeId: line.costCodeId,
        fullCode: line.costCode || null,
        description: line.description,
        costCodeOriginId: line.costCodeOriginId,
        categoryId: line.categoryId,
        category: line.category,
        categoryType: line.categoryId === null ? null : { name: line.category, code: line.categoryCode, originId: line.categoryOriginId },
        originalBudget: line.originalBudget,
        budgetChanges: line.budgetChanges,
        revisedEstimate: line.revisedEstimate,
        amountProblem: line.amountProblem,
        notes: line.notes,
      }),
    ),
    fingerprint: snapshot.fingerprint ?? '',
  };
}
