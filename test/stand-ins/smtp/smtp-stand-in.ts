import { EventEmitter } from 'node:events';
import { AddressInfo } from 'node:net';
import { AddressObject, simpleParser } from 'mailparser';
import { SMTPServer, SMTPServerAuthentication, SMTPServerSession } from 'smtp-server';
import { InboxServer } from './smtp-inbox';

/**
 * A real SMTP server on 127.0.0.1 for tests and the demo: it accepts every message (AUTH is
 * optional; PLAIN and LOGIN are checked against the configured credentials when given), parses
 * it with mailparser and keeps it in memory. It can go down and come back on the same port, answer
 * a transient 421/451 to the next messages, and reject chosen recipients permanently.
 */

export interface SmtpStandInOptions {
  /** Credentials AUTH PLAIN/LOGIN must match; without them any login is accepted. */
  credentials?: { user: string; pass: string };
  /** Largest message accepted, bytes (default 25 MB). */
  maxSize?: number;
}

export interface ReceivedMessage {
  /** 1, 2, 3… in arrival order; stable across clear(). */
  id: number;
  /** Addresses of the To header. */
  to: string[];
  /** Addresses of the Cc header. */
  cc: string[];
  /** The From header as sent, e.g. `Connector <erp@example.com>`. */
  from: string;
  /** What the client said in MAIL FROM / RCPT TO (includes Bcc recipients). */
  envelope: { mailFrom: string; rcptTo: string[] };
  subject: string;
  html: string | null;
  text: string | null;
  /** Header values by lower-case name, unfolded; the first one when a header repeats. */
  headers: Record<string, string>;
  messageId: string | null;
  /** The user the client logged in as, if it did. */
  authUser: string | null;
  receivedAt: Date;
  /** The message as received (RFC 5322). */
  raw: string;
}

export type TransientCode = 421 | 450 | 451 | 452;

const TRANSIENT_TEXT: Record<TransientCode, string> = {
  421: 'Service not available, closing transmission channel (stand-in)',
  450: 'Mailbox unavailable, try again later (stand-in)',
  451: 'Local error in processing, try again later (stand-in)',
  452: 'Insufficient system storage, try again later (stand-in)',
};

export class SmtpStandIn {
  private server: SMTPServer | null = null;
  private boundPort: number | null = null;
  private readonly received: ReceivedMessage[] = [];
  private readonly events = new EventEmitter();
  private nextId = 1;
  private failures: TransientCode[] = [];
  private readonly rejected = new Map<string, number>();
  private inbox: InboxServer | null = null;

  constructor(private readonly options: SmtpStandInOptions = {}) {
    this.events.setMaxListeners(100);
  }

  /** Listens on 127.0.0.1 (port 0 picks a free one). */
  async start(port = 0): Promise<{ port: number; url: string }> {
    if (this.server) throw new Error('SMTP stand-in already started');
    await this.listen(port);
    return { port: this.port, url: this.url };
  }

  /** Stops SMTP and the inbox; messages are kept until clear(). */
  async stop(): Promise<void> {
    await this.closeServer();
    this.boundPort = null;
    if (this.inbox) await this.inbox.stop();
    this.inbox = null;
  }

  /** Stops listening and drops open connections: clients get "connection refused". */
  async down(): Promise<void> {
    if (this.boundPort === null) throw new Error('SMTP stand-in was never started');
    await this.closeServer();
  }

  /** Listens again on the same port. */
  async up(): Promise<void> {
    if (this.boundPort === null) throw new Error('SMTP stand-in was never started');
    if (!this.server) await this.listen(this.boundPort);
  }

  get port(): number {
    if (this.boundPort === null) throw new Error('SMTP stand-in not started');
    return this.boundPort;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Every message received, oldest first. */
  get messages(): readonly ReceivedMessage[] {
    return [...this.received];
  }

  clear(): void {
    this.received.length = 0;
  }

  /** Resolves once at least `count` messages are held; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs = 5000): Promise<ReceivedMessage[]> {
    if (this.received.length >= count) return Promise.resolve(this.messages.slice());
    return new Promise((resolve, reject) => {
      const onMessage = () => {
        if (this.received.length < count) return;
        cleanup();
        resolve(this.messages.slice());
      };
      const timer = setTimeout(() => {
        cleanup();
        const subjects = this.received.map((m) => `"${m.subject}"`).join(', ') || 'none';
        reject(new Error(`expected ${count} message(s) within ${timeoutMs} ms, got ${this.received.length}: ${subjects}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('message', onMessage);
      };
      this.events.on('message', onMessage);
    });
  }

  /** Answers the next `count` messages (at MAIL FROM) with a transient error. */
  failNext(count: number, code: TransientCode = 451): void {
    for (let i = 0; i < count; i++) this.failures.push(code);
  }

  /** Refuses a recipient at RCPT TO with a permanent error (550 by default). */
  rejectRecipient(address: string, code = 550): void {
    this.rejected.set(address.toLowerCase(), code);
  }

  /** A small HTTP inbox on 127.0.0.1 listing the received messages (see smtp-inbox.ts). */
  async startInbox(port = 0): Promise<{ port: number; url: string }> {
    if (!this.inbox) this.inbox = new InboxServer(() => this.messages, () => this.clear());
    return this.inbox.start(port);
  }

  private listen(port: number): Promise<void> {
    const server = this.createServer();
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', onError);
        // A stand-in must not crash a test run over one bad client.
        server.on('error', () => undefined);
        this.server = server;
        this.boundPort = (server.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  private closeServer(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = null;
    return new Promise((resolve) => {
      server.close(() => resolve());
      // Drop live sessions now instead of after smtp-server's 30 s grace period.
      for (const connection of server.connections) connection.close();
    });
  }

  private createServer(): SMTPServer {
    const credentials = this.options.credentials;
    return new SMTPServer({
      name: 'smtp-stand-in.local',
      banner: 'SMTP stand-in',
      logger: false,
      secure: false,
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      allowInsecureAuth: true,
      authMethods: ['PLAIN', 'LOGIN'],
      size: this.options.maxSize ?? 25 * 1024 * 1024,
      socketTimeout: 30_000,
      closeTimeout: 1_000,
      onAuth: (auth: SMTPServerAuthentication, _session, callback) => {
        const user = auth.username ?? '';
        if (credentials && (user !== credentials.user || auth.password !== credentials.pass)) {
          callback(smtpError('Invalid username or password', 535));
          return;
        }
        callback(null, { user });
      },
      onMailFrom: (_address, _session, callback) => {
        const code = this.failures.shift();
        callback(code ? smtpError(TRANSIENT_TEXT[code], code) : null);
      },
      onRcptTo: (address, _session, callback) => {
        const code = this.rejected.get(address.address.toLowerCase());
        callback(code ? smtpError(`Recipient <${address.address}> rejected (stand-in)`, code) : null);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('error', (error) => callback(error));
        stream.on('end', () => {
          if (stream.sizeExceeded) {
            callback(smtpError('Message exceeds the size limit (stand-in)', 552));
            return;
          }
          const raw = Buffer.concat(chunks);
          this.store(raw, session).then(
            () => callback(),
            (error: Error) => callback(smtpError(`Could not parse the message: ${error.message}`, 554)),
          );
        });
      },
    });
  }

  private async store(raw: Buffer, session: SMTPServerSession): Promise<void> {
    const parsed = await simpleParser(raw, { skipImageLinks: true });
    const headers: Record<string, string> = {};
    for (const { key, line } of parsed.headerLines) {
      if (key in headers) continue;
      headers[key] = line
        .slice(line.indexOf(':') + 1)
        .replace(/\r?\n[ \t]+/g, ' ')
        .trim();
    }
    const message: ReceivedMessage = {
      id: this.nextId++,
      to: addresses(parsed.to),
      cc: addresses(parsed.cc),
      from: parsed.from?.text ?? '',
      envelope: {
        mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        rcptTo: session.envelope.rcptTo.map((r) => r.address),
      },
      subject: parsed.subject ?? '',
      html: typeof parsed.html === 'string' ? parsed.html : null,
      text: parsed.text ?? null,
      headers,
      messageId: parsed.messageId ?? null,
      authUser: typeof session.user === 'string' ? session.user : null,
      receivedAt: new Date(),
      raw: raw.toString('utf8'),
    };
    this.received.push(message);
    this.events.emit('message', message);
  }
}

function smtpError(message: string, responseCode: number): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode });
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  if (!field) return [];
  return (Array.isArray(field) ? field : [field])
    .flatMap((group) => group.value)
    .map((entry) => entry.address ?? '')
    .filter(Boolean);
}
