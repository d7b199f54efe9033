import { Global, Module } from '@nestjs/common';
import { AppConfig, isLoopbackHost } from '../config/app-config';
import { DailySummaryJob } from './daily-summary.job';
import { EmailModelBuilder } from './email-models.builder';
import { MailTransport, smtpRequiresTls } from './mail-transport';
import { NotificationSender } from './notification-sender.service';
import { Notifier } from './notifier';
import { SendNotificationJob } from './send-notification.job';
import { TemplateRenderer } from './template-renderer';

/**
 * Email notifications: Notifier records what a workflow event owes (in the caller's transaction);
 * the SendNotification and DailySummary jobs render and send it. The renderer compiles every
 * template once at start; the SMTP transport keeps one connection pool per process and closes it
 * on shutdown (MailTransport.onModuleDestroy).
 */
@Global()
@Module({
  providers: [
    Notifier,
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
  exports: [Notifier, NotificationSender, TemplateRenderer, MailTransport],
})
export class NotificationsModule {}
