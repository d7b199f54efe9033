import { AuditEvent } from './audit/audit-event.entity';
import { Submission } from './budgets/submission.entity';
import { ConsoleSession } from './console/console-session.entity';
import { SubmissionLine } from './budgets/submission-line.entity';
import { SubmissionRow } from './budgets/submission-row.entity';
import { Notification } from './budgets/notification.entity';
import { WebhookEvent } from './procore/webhook-event.entity';
import { PendingWork } from './queue/pending-work.entity';
import { Reconciliation } from './budgets/reconciliation.entity';
import { ApiToken } from './users/api-token.entity';
import { User } from './users/user.entity';

/** Every entity of the connector; the ORM and the migrations know exactly these. */
export const ENTITIES = [
  User,
  ApiToken,
  Submission,
  SubmissionLine,
  SubmissionRow,
  AuditEvent,
  PendingWork,
  WebhookEvent,
  Notification,
  Reconciliation,
  ConsoleSession,
];
