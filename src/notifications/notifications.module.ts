import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { BudgetsModule } from '../budgets/budgets.module';
import { AppConfig, isLoopbackHost } from '../config/app-config';
import { QueueModule } from '../queue/queue.module';
import { ObservabilityModule } from '../observability/observability.module';
import { ClockModule } from '../scheduler/clock.module';
import { UsersModule } from '../users/users.module';
import { DailySummaryJob } from './daily-summary.job';
import { EmailModelBuilder } from './email-models.builder';
import { MailTransport, smtpRequiresTls } from './mail-transport';
import { NotificationSender } from './notification-sender.service';
import { SendNotificationJob } from './send-notification.job';
import { TemplateRenderer } from './template-renderer';

/**
 * Email notifications: the SendNotification and DailySummary jobs render and send what the
 * notification ledger holds (the budgets module's Notifier records what each workflow event owes,
 * in its transaction). The renderer compiles every template once at start; the SMTP transport keeps
 * one connection pool per process and closes it on shutdown (MailTransport.onModuleDestroy).
 */
@Module({
  imports: [AuditModule, BudgetsModule, ClockModule, ObservabilityModule, QueueModule, UsersModule],
  providers: [
    EmailModelBuilder,
    NotificationSender,
    SendNotificationJob,
    DailySummaryJob,
    {
      provide: TemplateRenderer,
      useFactory: (config: AppConfig) =>
        new TemplateRenderer({ publicUrl: config.publicUrl, timeZone: config.schedules.dailySummaryTz }),
      inject: [AppConfig],
    },
    {
      provide: MailTransport,
      // STARTTLS is required on smtp:// except to this machine or with ALLOW_INSECURE_HTTP=true.
      useFactory: (config: AppConfig) =>
        new MailTransport({
          smtpUrl: config.mail.smtpUrl,
          from: config.mail.from,
          requireTls: smtpRequiresTls(config.mail.smtpUrl, config.security.allowInsecureHttp, isLoopbackHost),
        }),
      inject: [AppConfig],
    },
  ],
  exports: [NotificationSender, TemplateRenderer, MailTransport],
})
export class NotificationsModule {}
