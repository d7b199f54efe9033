import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DatabaseModule } from '../database/database.module';
import { QueueModule } from '../queue/queue.module';
import { UsersModule } from '../users/users.module';
import { BudgetQueries } from './budget-queries.service';
import { Notifier } from './notifier';
import { NotificationRepository } from './notification.repository';
import { ReconciliationGate } from './reconciliation-gate';
import { ReconciliationRepository } from './reconciliation.repository';
import { SnapshotRepository } from './snapshot.repository';
import { StuckSubmissions } from './stuck-submissions';
import { SubmissionJobLogContext } from './job-log-context';
import { SubmissionMetrics } from './submission-metrics';
import { ObservabilityModule } from '../observability/observability.module';
import { SubmissionRepository } from './submission.repository';
import { SubmissionStateMachine } from './submission-state-machine';
import { TransitionWork } from './transition-work';
import { USE_CASES } from './use-cases';

const REPOSITORIES = [SubmissionRepository, SnapshotRepository, ReconciliationRepository, NotificationRepository];

/**
 * Budget submissions: their repositories (the submission aggregate, its reconciliation reports and
 * the emails it owes), the state machine with the work each transition causes, and the use cases.
 * The HTTP API over them is BudgetsApiModule (./api).
 */
@Module({
  imports: [AuditModule, DatabaseModule, ObservabilityModule, QueueModule, UsersModule],
  providers: [...REPOSITORIES, SubmissionStateMachine, TransitionWork, Notifier, ReconciliationGate, BudgetQueries, StuckSubmissions, SubmissionJobLogContext, SubmissionMetrics, ...USE_CASES],
  exports: [...REPOSITORIES, Notifier, ReconciliationGate, BudgetQueries, ...USE_CASES],
})
export class BudgetsModule {}
