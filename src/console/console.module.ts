import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AuditModule } from '../audit/audit.module';
import { BudgetsModule } from '../budgets/budgets.module';
import { ReconciliationModule } from '../reconciliation/reconciliation.module';
import { SecurityModule } from '../security/security.module';
import { SpectrumExportModule } from '../spectrum/spectrum-export.module';
import { UsersModule } from '../users/users.module';
import { ProcoreModule } from '../procore/procore.module';
import { BudgetsPagesController } from './budgets-pages.controller';
import { ConsoleAuthGuard } from './console-auth.guard';
import { ConsoleBudgetsReader } from './console-budgets.reader';
import { ConsoleExceptionFilter } from './console-exception.filter';
import { ConsolePages } from './console-pages';
import { ConsoleRootController } from './console-root.controller';
import { ConsoleSessionRepository } from './console-session.repository';
import { ConsoleSessions } from './console-sessions.service';
import { ProcoreSignIn } from './procore-sign-in';
import { SignInController } from './sign-in.controller';
import { UsersPagesController } from './users-pages.controller';
import { WebhooksPageController } from './webhooks-page.controller';

import { QueueModule } from '../queue/queue.module';
import { QueueDashboard } from './queue-dashboard';

/**
 * The approver console under /console: server-rendered pages (Handlebars views, one CSS file,
 * one small script) over the same services as the REST API. Sessions live in PostgreSQL.
 */
@Module({
  imports: [AuditModule, BudgetsModule, UsersModule, QueueModule, ReconciliationModule, SecurityModule, SpectrumExportModule, ProcoreModule],
  controllers: [ConsoleRootController, SignInController, BudgetsPagesController, UsersPagesController, WebhooksPageController],
  providers: [ConsoleSessionRepository, ConsoleSessions, ConsolePages, ConsoleAuthGuard, ConsoleExceptionFilter, ConsoleBudgetsReader, ProcoreSignIn, QueueDashboard],
})
export class ConsoleModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(consoleHeaders).forRoutes('console', 'console/*path');
  }
}

/**
 * The console's pages load only their own stylesheet and script, post only to themselves, are never
 * framed, and are not kept in shared caches (they show budgets and tokens).
 */
export function consoleHeaders(_request: Request, response: Response, next: NextFunction): void {
  response.setHeader(
    'Content-Security-Policy',
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
  );
  response.setHeader('X-Frame-Options', 'DENY');
  response.setHeader('X-Content-Type-Options', 'nosniff');
  response.setHeader('Referrer-Policy', 'same-origin');
  response.setHeader('Cache-Control', 'no-store');
  next();
}
