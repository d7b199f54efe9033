import { inspect } from 'node:util';
import nodemailer, { Transporter } from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool';
import { parseSmtpUrl } from '../config/smtp-url';

export { parseSmtpUrl };

/**
 * A thin, pooled SMTP client over nodemailer. It is built from SMTP_URL and MAIL_FROM, sends one
 * message at a time per call and reports failures as MailDeliveryError, which says whether trying
 * again later can help (connection refused, timeout, 4xx) or not (5xx, e.g. recipient rejected).
 * The SMTP password lives only inside the nodemailer transport: it is never logged, never part of
 * an error message, and not shown by console.log/inspect/JSON of this object.
 */

export type MailAddress = string | { name: string; address: string };

export interface MailTransportOptions {
  /** `smtp://[user:pass@]host[:port]` (STARTTLS when offered, port 587 by default) or `smtps://…` (TLS, 465). */
  smtpUrl: string;
  /** The From header, e.g. `Procore ERP Connector <erp-connector@example.com>`. */
  from: string;
  /**
   * smtp:// only: refuse to send unless the server upgrades the connection with STARTTLS (the
   * password and the budgets in the emails never cross the network in clear).
   */
  requireTls?: boolean;
  /** Pooled connections kept open (default 3). */
  maxConnections?: number;
  /** Time to open the TCP connection (default 10 s). */
  connectionTimeoutMs?: number;
  /** Time to wait for the server's greeting once connected (default 10 s). */
  greetingTimeoutMs?: number;
  /** Inactivity allowed on an open connection (default 30 s). */
  socketTimeoutMs?: number;
}

export interface OutgoingMail {
  to: MailAddress | readonly MailAddress[];
  subject: string;
  html: string;
  text: string;
  /** Extra headers, e.g. `{ 'X-Connector-Notification-Id': '…' }`. */
  headers?: Record<string, string>;
  /** The Message-ID to use (`<id@host>`); nodemailer makes one up when absent. */
  messageId?: string;
}

export interface SentMail {
  messageId: string;
  /** Recipients the server accepted. */
  accepted: string[];
  /** Recipients the server refused while accepting others (when it refuses all, send throws). */
  rejected: string[];
  /** The server's final reply, e.g. `250 OK: queued as 12345`. */
  response: string;
}

export type MailFailureReason =
  | 'connection'
  | 'timeout'
  | 'temporary-rejection'
  | 'recipient-rejected'
  | 'rejected'
  | 'auth'
  | 'tls'
  | 'protocol'
  | 'message'
  | 'closed'
  | 'unknown';

export class MailDeliveryError extends Error {
  /** True when the same message may succeed later (retry with backoff); false when it will not. */
  readonly transient: boolean;
  readonly reason: MailFailureReason;
  /** SMTP reply code, when the server answered (e.g. 451, 550). */
  readonly responseCode?: number;
  /** The server's reply line, when it answered. */
  readonly response?: string;
  /** nodemailer's error code (ESOCKET, ETIMEDOUT, EENVELOPE, EAUTH, …). */
  readonly code?: string;

  constructor(
    message: string,
    details: {
      transient: boolean;
      reason: MailFailureReason;
      responseCode?: number;
      response?: string;
      code?: string;
      cause?: unknown;
    },
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'MailDeliveryError';
    this.transient = details.transient;
    this.reason = details.reason;
    this.responseCode = details.responseCode;
    this.response = details.response;
    this.code = details.code;
  }
}

const DEFAULTS = {
  maxConnections: 3,
  connectionTimeoutMs: 10_000,
  greetingTimeoutMs: 10_000,
  socketTimeoutMs: 30_000,
};

export class MailTransport {
  // An ES private field: util.inspect and JSON.stringify never reach it (it holds the password).
  readonly #transporter: Transporter<SMTPPool.SentMessageInfo>;
  private readonly from: string;
  /** `smtp://user:***@host:port`, safe to log. */
  readonly server: string;
  private closed = false;

  constructor(options: MailTransportOptions) {
    const smtp = parseSmtpUrl(options.smtpUrl);
    this.server = smtp.redacted;
    this.from = options.from;
    this.#transporter = nodemailer.createTransport({
      pool: true,
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      requireTLS: !smtp.secure && options.requireTls === true,
      auth: smtp.auth,
      maxConnections: options.maxConnections ?? DEFAULTS.maxConnections,
      maxMessages: 100,
      // A message whose connection closes mid-send is tried once more on a fresh connection.
      maxRequeues: 1,
      connectionTimeout: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      greetingTimeout: options.greetingTimeoutMs ?? DEFAULTS.greetingTimeoutMs,
      socketTimeout: options.socketTimeoutMs ?? DEFAULTS.socketTimeoutMs,
      dnsTimeout: options.connectionTimeoutMs ?? DEFAULTS.connectionTimeoutMs,
      logger: false,
      debug: false,
    } as SMTPPool.Options);
  }

  /** Sends one message; resolves when the server accepted it, throws MailDeliveryError otherwise. */
  async send(mail: OutgoingMail): Promise<SentMail> {
    if (this.closed) {
      throw new MailDeliveryError('mail transport is closed', { transient: false, reason: 'closed' });
    }
    const headers = mail.headers ?? {};
    for (const [name, value] of Object.entries(headers)) {
      if (!/^[A-Za-z0-9-]+$/.test(name) || /[\r\n]/.test(value)) {
        throw new MailDeliveryError(`invalid mail header ${JSON.stringify(name)}`, {
          transient: false,
          reason: 'message',
        });
      }
    }
    try {
      const info = await this.#transporter.sendMail({
        from: this.from,
        to: (Array.isArray(mail.to) ? [...mail.to] : [mail.to]) as MailAddress[],
        subject: mail.subject,
        html: mail.html,
        text: mail.text,
        headers,
        messageId: mail.messageId,
      });
      return {
        messageId: info.messageId,
        accepted: info.accepted.map(addressOf),
        rejected: info.rejected.map(addressOf),
        response: info.response,
      };
    } catch (error) {
      throw classifyMailError(error, this.server);
    }
  }

  /** Connects and logs in once, to check the configuration; throws MailDeliveryError. */
  async verify(): Promise<void> {
    try {
      await this.#transporter.verify();
    } catch (error) {
      throw classifyMailError(error, this.server);
    }
  }

  /** Closes the pooled connections (a message being sent finishes first). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#transporter.close();
  }

  onModuleDestroy(): void {
    this.close();
  }

  toJSON(): { server: string } {
    return { server: this.server };
  }

  [inspect.custom](): string {
    return `MailTransport { server: '${this.server}' }`;
  }
}

/**
 * Whether SMTP_URL must be upgraded with STARTTLS: smtp:// to a host other than this machine,
 * unless ALLOW_INSECURE_HTTP=true. (smtps:// is TLS from the start.)
 */
export function smtpRequiresTls(smtpUrl: string, allowInsecure: boolean, isLoopback: (host: string) => boolean): boolean {
  const smtp = parseSmtpUrl(smtpUrl);
  return !smtp.secure && !allowInsecure && !isLoopback(smtp.host);
}

const TRANSIENT_CODES: Record<string, MailFailureReason> = {
  ETIMEDOUT: 'timeout',
  ESOCKET: 'connection',
  ECONNECTION: 'connection',
  ECONNREFUSED: 'connection',
  ECONNRESET: 'connection',
  EPIPE: 'connection',
  EDNS: 'connection',
  EMAXLIMIT: 'connection',
  EPROTOCOL: 'protocol',
  ETLS: 'tls',
};

const PERMANENT_CODES: Record<string, MailFailureReason> = {
  EAUTH: 'auth',
  // nodemailer 8+: the server requires a login and SMTP_URL carries none.
  ENOAUTH: 'auth',
  EOAUTH2: 'auth',
  EENVELOPE: 'message',
  EMESSAGE: 'message',
  ESTREAMING: 'message',
};

/**
 * Maps a nodemailer error to a MailDeliveryError: a 4xx reply, a connection failure or a timeout
 * is transient; a 5xx reply (e.g. 550 recipient rejected, 535 bad login) is permanent. Unknown
 * failures count as transient: the caller's retries are bounded, and a lost email is worse.
 */
export function classifyMailError(error: unknown, server = 'the SMTP server'): MailDeliveryError {
  if (error instanceof MailDeliveryError) return error;
  const e = (error ?? {}) as { message?: unknown; code?: unknown; responseCode?: unknown; response?: unknown; command?: unknown };
  const message = typeof e.message === 'string' ? e.message : String(error);
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const response = typeof e.response === 'string' ? e.response : undefined;

  let transient: boolean;
  let reason: MailFailureReason;
  if (responseCode !== undefined && responseCode >= 400 && responseCode < 500) {
    transient = true;
    reason = code === 'EAUTH' ? 'auth' : 'temporary-rejection';
  } else if (responseCode !== undefined && responseCode >= 500 && responseCode < 600) {
    transient = false;
    reason = code === 'EAUTH' ? 'auth' : e.command === 'RCPT TO' ? 'recipient-rejected' : 'rejected';
  } else if (code && code in TRANSIENT_CODES) {
    transient = true;
    reason = TRANSIENT_CODES[code];
  } else if (code && code in PERMANENT_CODES) {
    transient = false;
    reason = PERMANENT_CODES[code];
  } else {
    transient = true;
    reason = /connection|socket/i.test(message) ? 'connection' : 'unknown';
  }
  return new MailDeliveryError(
    `${transient ? 'Transient' : 'Permanent'} mail failure (${reason}) via ${server}: ${message}`,
    { transient, reason, responseCode, response, code, cause: error },
  );
}

function addressOf(entry: string | { address: string }): string {
  return typeof entry === 'string' ? entry : entry.address;
}
