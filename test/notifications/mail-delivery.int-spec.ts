import { createServer, Server, Socket } from 'node:net';
import { EMAIL_KINDS, EmailKind } from '../../src/notifications/email-content';
import { isLoopbackHost } from '../../src/config/app-config';
import { MailDeliveryError, MailTransport, smtpRequiresTls } from '../../src/notifications/mail-transport';
import { TemplateRenderer } from '../../src/notifications/template-renderer';
import { SmtpStandIn } from '../stand-ins/smtp/smtp-stand-in';
import { HOSTILE_REASON, PUBLIC_URL, rejected, SAMPLES, TIME_ZONE } from './email-samples';

/**
 * Renders every email and delivers it over real SMTP (MailTransport → SmtpStandIn on 127.0.0.1),
 * then checks what arrived; and shows how delivery failures are reported.
 */

const TIMEOUT_MS = 1000;
const FROM = 'Procore ERP Connector <erp-connector@builder.example.com>';
const CREDENTIALS = { user: 'connector', pass: 'S3cret/pass@word' };

describe('mail delivery over SMTP', () => {
  const renderer = new TemplateRenderer({ publicUrl: PUBLIC_URL, timeZone: TIME_ZONE });
  const smtp = new SmtpStandIn({ credentials: CREDENTIALS });
  let transport: MailTransport;
  let smtpUrl: string;

  const transportFor = (url: string) =>
    new MailTransport({
      smtpUrl: url,
      from: FROM,
      connectionTimeoutMs: TIMEOUT_MS,
      greetingTimeoutMs: TIMEOUT_MS,
      socketTimeoutMs: 5 * TIMEOUT_MS,
    });
  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected the send to fail');
      },
      (error: unknown) => error as MailDeliveryError,
    );

  beforeAll(async () => {
    const { port } = await smtp.start();
    smtpUrl = `smtp://${CREDENTIALS.user}:${encodeURIComponent(CREDENTIALS.pass)}@127.0.0.1:${port}`;
    transport = transportFor(smtpUrl);
  });
  afterAll(async () => {
    transport.close();
    await smtp.stop();
  });
  beforeEach(() => smtp.clear());

  it('verifies the configuration by logging in', async () => {
    await expect(transport.verify()).resolves.toBeUndefined();
  });

  it.each(EMAIL_KINDS)('delivers %s with its subject, both parts and the correlation header', async (kind: EmailKind) => {
    const email = renderer.render(kind, SAMPLES[kind]() as never);
    const notificationId = `ntf-${kind}-1`;
    const sent = await transport.send({
      to: { name: 'Dana Ruiz', address: 'dana.ruiz@builder.example.com' },
      ...email,
      headers: { 'X-Connector-Notification-Id': notificationId },
      messageId: `<${notificationId}@erp-connector.example.com>`,
    });
    expect(sent).toMatchObject({
      messageId: `<${notificationId}@erp-connector.example.com>`,
      accepted: ['dana.ruiz@builder.example.com'],
      rejected: [],
    });

    const [message] = await smtp.waitForMessages(1);
    expect(message.subject).toBe(email.subject);
    expect(message.to).toEqual(['dana.ruiz@builder.example.com']);
    expect(message.from).toBe('"Procore ERP Connector" <erp-connector@builder.example.com>');
    expect(message.headers['x-connector-notification-id']).toBe(notificationId);
    expect(message.messageId).toBe(`<${notificationId}@erp-connector.example.com>`);
    expect(message.authUser).toBe(CREDENTIALS.user);
    expect(message.html?.trim()).toBe(email.html.trim());
    expect(message.text?.trim()).toBe(email.text.trim());
  });

  it('with STARTTLS required, a server that does not offer it gets nothing, and the password is never sent', async () => {
    const strict = new MailTransport({ smtpUrl, from: FROM, requireTls: true, connectionTimeoutMs: TIMEOUT_MS, greetingTimeoutMs: TIMEOUT_MS });
    try {
      const error = await failure(strict.send({ to: 'dana.ruiz@builder.example.com', subject: 'x', html: '<p>x</p>', text: 'x' }));
      expect(error).toBeInstanceOf(MailDeliveryError);
      expect(error.message).toMatch(/STARTTLS|TLS/i);
      expect(error.message).not.toContain(CREDENTIALS.pass);
      expect(smtp.messages).toHaveLength(0);
    } finally {
      strict.close();
    }
    // Whether it is required: smtp:// to another machine, unless ALLOW_INSECURE_HTTP=true; never for smtps:// or this machine.
    expect(smtpRequiresTls('smtp://relay.example.com:587', false, isLoopbackHost)).toBe(true);
    expect(smtpRequiresTls('smtp://relay.example.com:587', true, isLoopbackHost)).toBe(false);
    expect(smtpRequiresTls('smtps://relay.example.com', false, isLoopbackHost)).toBe(false);
    expect(smtpRequiresTls('smtp://127.0.0.1:25', false, isLoopbackHost)).toBe(false);
    expect(smtpRequiresTls('smtp://localhost', false, isLoopbackHost)).toBe(false);
  });

  it('sends the daily summary under exactly its promised subject', async () => {
    await transport.send({ to: 'dana.ruiz@builder.example.com', ...renderer.render('daily-summary', SAMPLES['daily-summary']()) });
    const [message] = await smtp.waitForMessages(1);
    expect(message.subject).toBe('ERP Integrations Daily Summary');
  });

  it('delivers a hostile rejection reason escaped in HTML and verbatim in text', async () => {
    const email = renderer.render('rejected', rejected());
    await transport.send({ to: ['pat.lee@builder.example.com', 'sam.chen@builder.example.com'], ...email });
    const [message] = await smtp.waitForMessages(1);
    expect(message.envelope.rcptTo).toEqual(['pat.lee@builder.example.com', 'sam.chen@builder.example.com']);
    expect(message.subject).toBe('Budget rejected: Riverside Medical Office Building (24-017)');
    expect(message.html).not.toContain('<script>');
    expect(message.html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;');
    expect(message.html).toContain('is double-counted &amp; the L cost type');
    expect(message.text).toContain(HOSTILE_REASON);
  });

  it('keeps non-ASCII text intact end to end', async () => {
    const model = rejected('Montant révisé erroné – voir « 03-300 » ✓');
    model.submission.projectName = 'Résidence Café – Phase 2';
    const email = renderer.render('rejected', model);
    await transport.send({ to: 'pat.lee@builder.example.com', ...email });
    const [message] = await smtp.waitForMessages(1);
    expect(message.subject).toBe('Budget rejected: Résidence Café – Phase 2 (24-017)');
    expect(message.text).toContain('Montant révisé erroné – voir « 03-300 » ✓');
    expect(message.html).toContain('Montant révisé erroné – voir « 03-300 » ✓');
  });

  describe('failures', () => {
    const mail = () => ({ to: 'dana.ruiz@builder.example.com', ...renderer.render('rejected', rejected()) });

    it('SMTP down: throws a transient error quickly; back up: the next send succeeds', async () => {
      await transport.send(mail()); // a pooled connection is open when the server goes away
      await smtp.down();
      try {
        const started = Date.now();
        const error = await failure(transport.send(mail()));
        expect(Date.now() - started).toBeLessThan(TIMEOUT_MS);
        expect(error).toBeInstanceOf(MailDeliveryError);
        expect(error.transient).toBe(true);
        expect(error.reason).toBe('connection');
        expect(error.message).not.toContain(CREDENTIALS.pass);
      } finally {
        await smtp.up();
      }
      smtp.clear();
      await expect(transport.send(mail())).resolves.toMatchObject({ accepted: ['dana.ruiz@builder.example.com'] });
      await smtp.waitForMessages(1);
    });

    it('a server that never greets: a transient timeout within the configured greeting timeout', async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const { port } = silent.address() as { port: number };
      const stalled = transportFor(`smtp://127.0.0.1:${port}`);
      try {
        const started = Date.now();
        const error = await failure(stalled.send(mail()));
        const elapsed = Date.now() - started;
        expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
        expect(elapsed).toBeLessThan(TIMEOUT_MS + 1500);
        expect(error).toMatchObject({ transient: true, reason: 'timeout' });
      } finally {
        stalled.close();
        sockets.forEach((socket) => socket.destroy());
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it('a 451 reply is transient, and the next message goes through', async () => {
      smtp.failNext(1, 451);
      const error = await failure(transport.send(mail()));
      expect(error).toMatchObject({ transient: true, reason: 'temporary-rejection', responseCode: 451 });
      expect(smtp.messages).toHaveLength(0);
      await transport.send(mail());
      await smtp.waitForMessages(1);
    });

    // RFC 5321 4.2: 421 means the server closes the session. nodemailer (10+) ends it; depending on
    // which of its events comes first, the pool either tries the message once more on a fresh
    // connection (maxRequeues: 1; safe, nothing was accepted) or reports the 421. Either way the
    // message is delivered exactly once (here, or by the queue's retry) — never lost, never twice.
    it('a 421 reply: delivered once, either on a fresh connection or after a transient failure', async () => {
      smtp.failNext(1, 421);
      const first = { ...mail(), subject: 'After a 421' };
      const outcome = await transport.send(first).then(
        () => 'sent' as const,
        (error: MailDeliveryError) => error,
      );
      if (outcome !== 'sent') {
        expect(outcome).toMatchObject({ transient: true, reason: 'temporary-rejection', responseCode: 421 });
        expect(smtp.messages).toHaveLength(0);
        await transport.send(first); // what the queue's retry does
      }
      await transport.send({ ...mail(), subject: 'Marker' });
      await smtp.waitForMessages(2);
      expect(smtp.messages.map((message) => message.subject)).toEqual(['After a 421', 'Marker']);
    });

    it('a rejected recipient is permanent; with other recipients it is reported, not thrown', async () => {
      smtp.rejectRecipient('gone@builder.example.com');
      const error = await failure(transport.send({ ...mail(), to: 'gone@builder.example.com' }));
      expect(error).toMatchObject({ transient: false, reason: 'recipient-rejected', responseCode: 550 });

      const sent = await transport.send({ ...mail(), to: ['gone@builder.example.com', 'pat.lee@builder.example.com'] });
      expect(sent.accepted).toEqual(['pat.lee@builder.example.com']);
      expect(sent.rejected).toEqual(['gone@builder.example.com']);
      const [message] = await smtp.waitForMessages(1);
      expect(message.envelope.rcptTo).toEqual(['pat.lee@builder.example.com']);
    });

    it('a wrong password is a permanent auth failure that does not reveal the password', async () => {
      const wrong = 'Wr0ng-pa55word';
      const badLogin = transportFor(`smtp://${CREDENTIALS.user}:${wrong}@127.0.0.1:${smtp.port}`);
      try {
        const error = await failure(badLogin.send(mail()));
        expect(error).toMatchObject({ transient: false, reason: 'auth', responseCode: 535 });
        expect(error.message).not.toContain(wrong);
        await expect(badLogin.verify()).rejects.toMatchObject({ transient: false, reason: 'auth' });
      } finally {
        badLogin.close();
      }
    });
  });
});
