import { Injectable, Logger } from '@nestjs/common';
import { Notification, NotificationKind } from '../budgets/notification.entity';
import { NotificationRepository } from '../budgets/notification.repository';
import { AppConfig } from '../config/app-config';
import { MetricsService } from '../observability/metrics.service';
import { EmailModelBuilder, EmailNotApplicableError, EmailToRender } from './email-models.builder';
import { classifyMailError, MailAddress, MailDeliveryError, MailTransport } from './mail-transport';
import { RenderedEmail, TemplateRenderer, TemplateRenderError } from './template-renderer';

/** Header that ties a received email to its ledger row. */
export const NOTIFICATION_ID_HEADER = 'X-Connector-Notification-Id';
/** A notification that still fails transiently this long after it was recorded is given up. */
export const GIVE_UP_AFTER_MS = 72 * 3_600_000;

export type SendResult =
  | { outcome: 'sent'; kind: NotificationKind; messageId: string }
  | { outcome: 'failed'; kind: NotificationKind; error: string }
  | { outcome: 'skipped'; reason: string };

/** Another worker holds this notification right now; the job tries again later. */
export class NotificationBusyError extends Error {
  constructor(notificationId: string) {
    super(`notification ${notificationId} is being sent by another worker; it is checked again later`);
    this.name = 'NotificationBusyError';
  }
}

/**
 * Failures that say nothing about this message: the login or TLS setup is wrong (an operator fixes
 * SMTP_URL), or this process is shutting down. The message is kept and retried, not dropped.
 */
const SERVER_SIDE_REASONS = new Set<MailDeliveryError['reason']>(['auth', 'tls', 'closed']);

type Step = { result: SendResult } | { busy: true } | { retry: MailDeliveryError };

/**
 * Sends one notification of the ledger, at most once.
 *
 * Claiming: the ledger row is locked with `select … for update skip locked` in a transaction that
 * stays open across the SMTP conversation and commits the outcome (sent, failed, or one more
 * attempt). A second worker on the same row skips the locked row and retries later, by which time
 * the row says `sent`. If the process dies mid-send, PostgreSQL drops the lock with the connection
 * and the row is still `pending`: the only possible repeat is a crash between SMTP acceptance and
 * the commit. The Message-ID is derived from the row, so such a repeat carries the same one.
 *
 * Failures: a transient SMTP failure (refused, timeout, 4xx) — or a login/TLS failure, which an
 * operator fixes — is thrown, so the queue retries with backoff and the sweeper after that; the
 * workflow never waits on it. A permanent one (5xx for this message, e.g. recipient refused), an
 * email that no longer applies, or one still failing after GIVE_UP_AFTER_MS closes the row as
 * `failed` with the reason.
 */
@Injectable()
export class NotificationSender {
  private readonly logger = new Logger(NotificationSender.name);
  private readonly messageIdDomain: string;

  constructor(
    private readonly notifications: NotificationRepository,
    private readonly models: EmailModelBuilder,
    private readonly renderer: TemplateRenderer,
    private readonly transport: MailTransport,
    config: AppConfig,
    private readonly metrics: MetricsService,
  ) {
    this.messageIdDomain = domainOf(config.mail.from) ?? new URL(config.publicUrl).hostname;
  }

  async send(notificationId: string): Promise<SendResult> {
    const step = await this.notifications.transaction(async (): Promise<Step> => {
      const notification = await this.notifications.claim(notificationId);
      if (notification === 'busy') return { busy: true };
      if (!notification) return { result: { outcome: 'skipped', reason: `notification ${notificationId} does not exist` } };
      if (notification.state !== 'pending') {
        return { result: { outcome: 'skipped', reason: `notification ${notificationId} is already ${notification.state}` } };
      }
      const delivered = await this.deliver(notification);
      await this.notifications.save();
      return delivered;
    });

    if ('busy' in step) throw new NotificationBusyError(notificationId);
    if ('retry' in step) throw step.retry;
    const { result } = step;
    if (result.outcome === 'sent') this.logger.log(`Sent ${result.kind} notification #${notificationId}`);
    if (result.outcome === 'failed') this.logger.warn(`Notification #${notificationId} (${result.kind}) closed as failed: ${result.error}`);
    return result;
  }

  /** Renders and sends a locked, pending notification; records the outcome on it. */
  private async deliver(notification: Notification): Promise<Step> {
    const now = new Date();
    const { kind } = notification;
    notification.attempts += 1;

    let email: RenderedEmail;
    try {
      email = render(this.renderer, await this.models.build(notification, now));
    } catch (error) {
      if (error instanceof EmailNotApplicableError || error instanceof TemplateRenderError) {
        return this.close(notification, error.message);
      }
      throw error; // e.g. the database went away: the queue retries
    }

    try {
      const sent = await this.transport.send({
        to: this.addressOf(notification),
        ...email,
        headers: { [NOTIFICATION_ID_HEADER]: notification.id },
        messageId: this.messageIdOf(notification),
      });
      notification.state = 'sent';
      notification.subject = email.subject;
      notification.messageId = sent.messageId;
      notification.sentAt = new Date();
      notification.lastError = null;
      this.metrics.emailsSent.inc({ kind });
      return { result: { outcome: 'sent', kind, messageId: sent.messageId } };
    } catch (error) {
      const failure = classifyMailError(error, this.transport.server);
      const retryable = failure.transient || SERVER_SIDE_REASONS.has(failure.reason);
      if (retryable && now.getTime() - notification.createdAt.getTime() < GIVE_UP_AFTER_MS) {
        notification.lastError = failure.message.slice(0, 2000);
        this.metrics.emailsFailed.inc({ kind, final: 'false' });
        return { retry: failure };
      }
      const giveUp = retryable ? `gave up after ${GIVE_UP_AFTER_MS / 3_600_000} h: ` : '';
      this.metrics.emailsFailed.inc({ kind, final: 'true' });
      return this.close(notification, `${giveUp}${failure.message}`, email.subject);
    }
  }

  private close(notification: Notification, error: string, subject?: string): Step {
    notification.state = 'failed';
    notification.lastError = error.slice(0, 2000);
    if (subject) notification.subject = subject;
    return { result: { outcome: 'failed', kind: notification.kind, error } };
  }

  private addressOf(notification: Notification): MailAddress {
    const name = notification.recipientName?.trim();
    return name ? { name, address: notification.recipientEmail } : notification.recipientEmail;
  }

  /** Stable per ledger row (the creation time keeps it unique across database rebuilds). */
  private messageIdOf(notification: Notification): string {
    return `<notification-${notification.id}.${notification.createdAt.getTime().toString(36)}@${this.messageIdDomain}>`;
  }
}

function render(renderer: TemplateRenderer, email: EmailToRender): RenderedEmail {
  // EmailToRender pairs each kind with its own model; TypeScript cannot follow that through a union.
  return renderer.render(email.kind, email.model as never);
}

/** The domain of the address in MAIL_FROM (`Name <user@domain>` or `user@domain`). */
function domainOf(from: string): string | null {
  const match = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return match ? match[1] : null;
}
