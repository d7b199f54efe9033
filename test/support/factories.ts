import { EntityManager } from '@mikro-orm/postgresql';
import { Submission } from '../../src/budgets/submission.entity';
import { SubmissionLine } from '../../src/budgets/submission-line.entity';
import { SubmissionRow } from '../../src/budgets/submission-row.entity';
import { SubmissionStatus } from '../../src/budgets/submission-status';
import { Cents } from '../../src/common/money';
import { ErpPermission, User } from '../../src/users/user.entity';
import { AuditEventRepository } from '../../src/audit/audit-event.repository';
import { LockRepository } from '../../src/database/lock.repository';
import { UserRepository } from '../../src/users/user.repository';
import { UsersService } from '../../src/users/users.service';
import { databaseUrl } from './test-env';

let sequence = 0;

export interface UserWithToken {
  user: User;
  token: string;
}

export async function createUser(
  em: EntityManager,
  overrides: { erpPermission?: ErpPermission; canPushToAccounting?: boolean; email?: string; name?: string; subscribedToDigest?: boolean } = {},
): Promise<UserWithToken> {
  sequence++;
  const users = new UsersService(new UserRepository(em), new AuditEventRepository(em), new LockRepository(em, { databaseUrl: databaseUrl() }));
  const user = await users.create(
    {
      email: overrides.email ?? `user${sequence}-${Date.now()}@example.com`,
      name: overrides.name ?? `Test User ${sequence}`,
      erpPermission: overrides.erpPermission ?? 'standard',
      canPushToAccounting: overrides.canPushToAccounting ?? false,
      subscribedToDigest: overrides.subscribedToDigest,
    },
    { label: 'test' },
  );
  const { token } = await users.createToken(user.id, { label: 'test' }, { label: 'test' });
  return { user, token };
}

export interface LineSpec {
  costCode: string;
  category: string;
  phase: string | null;
  costType: string | null;
  original: Cents;
  changes?: Cents;
  description?: string;
  problems?: string[];
}

/** A submission with lines and rows, inserted directly (test data, not an ingestion). */
export async function createSubmission(
  em: EntityManager,
  options: {
    status?: SubmissionStatus;
    procoreProjectId?: string;
    job?: string;
    sentBy?: User | null;
    createdBy?: User | null;
    lines?: LineSpec[];
  } = {},
): Promise<Submission> {
  sequence++;
  const fork = em.fork();
  const lines = options.lines ?? [
    { costCode: '01-100', category: 'Labor', phase: '01100', costType: 'L', original: 125000n, changes: 2550n, description: 'General Conditions' },
    { costCode: '03-300', category: 'Material', phase: '03300', costType: 'M', original: 9876543n, description: 'Cast-in-Place Concrete' },
  ];
  const submission = fork.create(Submission, {
    procoreProjectId: options.procoreProjectId ?? String(100000 + sequence),
    projectName: `Test Project ${sequence}`,
    job: options.job ?? '26-101',
    status: options.status ?? 'ready_to_export',
    source: 'sample',
    sentBy: options.sentBy ? fork.getReference(User, options.sentBy.id) : null,
    createdBy: options.createdBy ? fork.getReference(User, options.createdBy.id) : null,
  } as never);
  const rows = new Map<string, SubmissionRow>();
  let problemCount = 0;
  lines.forEach((spec, index) => {
    const changes = spec.changes ?? 0n;
    const key = `${spec.phase}|${spec.costType}`;
    let row = spec.phase && spec.costType ? rows.get(key) : undefined;
    if (!row && spec.phase && spec.costType) {
      row = fork.create(SubmissionRow, {
        submission,
        position: rows.size,
        job: submission.job,
        phase: spec.phase,
        costType: spec.costType,
        description: spec.description ?? '',
        problems: spec.problems ?? [],
      } as never);
      rows.set(key, row);
    }
    if (row) {
      row.originalBudget += spec.original;
      row.revisedEstimate += spec.original + changes;
      row.lineCount++;
    }
    fork.create(SubmissionLine, {
      submission,
      position: index,
      costCode: spec.costCode,
      category: spec.category,
      description: spec.description ?? '',
      originalBudget: spec.original,
      budgetChanges: changes,
      revisedEstimate: spec.original + changes,
      job: submission.job,
      phase: spec.phase,
      costType: spec.costType,
      row: row ?? null,
      problems: spec.problems ?? [],
      notes: [],
    } as never);
    if (spec.problems?.length) problemCount++;
    submission.originalBudget += spec.original;
    submission.budgetChanges += changes;
    submission.revisedEstimate += spec.original + changes;
  });
  submission.lineCount = lines.length;
  submission.rowCount = rows.size;
  submission.problemCount = problemCount;
  await fork.flush();
  return submission;
}
