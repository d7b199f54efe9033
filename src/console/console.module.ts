import { Module } from '@nestjs/common';
import { BudgetsModule } from '../budgets/budgets.module';
import { ReconciliationModule } from '../reconciliation/reconciliation.module';
import { SpectrumExportModule } from '../spectrum/spectrum-export.module';
import { UsersModule } from '../users/users.module';
import { ProcoreModule } from '../procore/procore.module';
import { BudgetsPagesController } from './budgets-pages.controller';
import { ConsoleAuthGuard } from './console-auth.guard';
import { ConsoleBudgetsReader } from './console-budgets.reader';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ConsoleRootController } from './console-root.controller';
import { ConsoleSessions } from './console-sessions.service';
import { ProcoreSignIn } from './procore-sign-in';
import { SignInController } from './sign-in.controller';
import { UsersPagesController } from './users-pages.controller';
import { WebhooksPageController } from './webhooks-page.controller';

/**
 * The approver console under /console: server-rendered pages (Handlebars views, one CSS file,
 * one small script) over the same services as the REST API. Sessions live in PostgreSQL.
 */
@Module({
  imports: [BudgetsModule, UsersModule, ReconciliationModule, SpectrumExportModule, ProcoreModule],
  controllers: [ConsoleRootController, SignInController, BudgetsPagesController, UsersPagesController, WebhooksPageController],
  providers: [ConsoleSessions, ConsolePages, ConsoleAuthGuard, ConsoleExceptionFilter, ConsoleBudgetsReader, ProcoreSignIn],
})
export class ConsoleModule {}
