import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { classifyMailError, MailDeliveryError, MailTransport, parseSmtpUrl } from './mail-transport';

const PASSWORD = 'pa$$:w0rd/with@odd#chars';
const URL_WITH_PASSWORD = `smtps://mailer%40example.com:${encodeURIComponent(PASSWORD)}@smtp.example.com:465`;

describe('parseSmtpUrl', () => {
  it('reads host, port, TLS and credentials', () => {
    expect(parseSmtpUrl(URL_WITH_PASSWORD)).toEqual({
      host: 'smtp.example.com',
      port: 465,
      secure: true,
      auth: { user: 'mailer@example.com', pass: PASSWORD },
      redacted: 'smtps://mailer%40example.com:***@smtp.example.com:465',
    });
  });

  it('defaults the port by scheme and needs no credentials', () => {
    expect(parseSmtpUrl('smtp://relay.internal')).toEqual({
      host: 'relay.internal',
      port: 587,
      secure: false,
      auth: undefined,
      redacted: 'smtp://relay.internal:587',
    });
    expect(parseSmtpUrl('smtps://relay.internal').port).toBe(465);
    expect(parseSmtpUrl('smtp://127.0.0.1:2525').port).toBe(2525);
    expect(parseSmtpUrl('smtp://[::1]:2525').host).toBe('::1');
  });

  it('refuses other schemes and bad URLs without echoing them', () => {
    const secret = encodeURIComponent(PASSWORD);
    expect(() => parseSmtpUrl(`http://u:${secret}@host`)).toThrow('SMTP_URL must start with smtp:// or smtps://');
    for (const bad of [`smtp://u:${PASSWORD}@`, `smtp://u:${secret}@`, 'not a url']) {
      expect(() => parseSmtpUrl(bad)).toThrow(/^SMTP_URL /);
      try {
        parseSmtpUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
        expect((error as Error).message).not.toContain('pa$$');
      }
    }
  });
});

describe('classifyMailError', () => {
  const nodemailerError = (fields: Record<string, unknown>) => Object.assign(new Error(String(fields.message)), fields);

  it.each([
    [{ message: 'connect ECONNREFUSED 127.0.0.1:25', code: 'ESOCKET', command: 'CONN' }, true, 'connection'],
    [{ message: 'Greeting never received', code: 'ETIMEDOUT', command: 'CONN' }, true, 'timeout'],
    [{ message: 'Connection timeout', code: 'ETIMEDOUT' }, true, 'timeout'],
    [{ message: 'Mail command failed: 451 try later', code: 'EENVELOPE', responseCode: 451, command: 'MAIL FROM' }, true, 'temporary-rejection'],
    [{ message: 'Mail command failed: 421 closing', code: 'EENVELOPE', responseCode: 421 }, true, 'temporary-rejection'],
    [{ message: 'Invalid login: 454 try later', code: 'EAUTH', responseCode: 454 }, true, 'auth'],
    [{ message: 'all recipients were rejected: 550 no such user', code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }, false, 'recipient-rejected'],
    [{ message: 'Message failed: 554 spam', code: 'EMESSAGE', responseCode: 554, command: 'DATA' }, false, 'rejected'],
    [{ message: 'Invalid login: 535 bad credentials', code: 'EAUTH', responseCode: 535 }, false, 'auth'],
    [{ message: 'No recipients defined', code: 'EENVELOPE' }, false, 'message'],
    [{ message: 'Authentication required, but no credentials configured', code: 'ENOAUTH' }, false, 'auth'],
    [{ message: 'Reached maximum number of retries after connection was closed' }, true, 'connection'],
    [{ message: 'something odd' }, true, 'unknown'],
  ])('%j → transient=%p (%s)', (fields, transient, reason) => {
    const classified = classifyMailError(nodemailerError(fields), 'smtp://relay:25');
    expect(classified).toBeInstanceOf(MailDeliveryError);
    expect(classified.transient).toBe(transient);
    expect(classified.reason).toBe(reason);
    expect(classified.message).toContain('via smtp://relay:25');
    expect(classified.responseCode).toBe((fields as { responseCode?: number }).responseCode);
  });
});

describe('MailTransport', () => {
  it('never shows the password: not in inspect, JSON, or a failed send', async () => {
    // A port nobody listens on: the send fails at once with connection refused.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const transport = new MailTransport({
      smtpUrl: `smtp://mailer:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}`,
      from: 'Connector <erp@example.com>',
      connectionTimeoutMs: 1000,
      greetingTimeoutMs: 1000,
    });
    try {
      expect(inspect(transport, { depth: 10, showHidden: true })).not.toContain(PASSWORD);
      expect(JSON.stringify(transport)).not.toContain(PASSWORD);
      expect(transport.server).toBe(`smtp://mailer:***@127.0.0.1:${port}`);
      const error = await transport
        .send({ to: 'someone@example.com', subject: 's', html: '<p>h</p>', text: 't' })
        .then(() => null, (e: unknown) => e as MailDeliveryError);
      expect(error).toBeInstanceOf(MailDeliveryError);
      expect(error?.transient).toBe(true);
      expect(error?.reason).toBe('connection');
      expect(error?.message).not.toContain(PASSWORD);
      expect(inspect(error, { depth: 10 })).not.toContain(PASSWORD);
    } finally {
      transport.close();
    }
  });

  it('refuses header injection and use after close', async () => {
    const transport = new MailTransport({ smtpUrl: 'smtp://127.0.0.1:9', from: 'erp@example.com' });
    const mail = { to: 'a@example.com', subject: 's', html: 'h', text: 't' };
    await expect(transport.send({ ...mail, headers: { 'X-Id': 'a\r\nBcc: evil@example.com' } })).rejects.toMatchObject({
      transient: false,
      reason: 'message',
    });
    await expect(transport.send({ ...mail, headers: { 'X Id': '1' } })).rejects.toBeInstanceOf(MailDeliveryError);
    transport.close();
    transport.close();
    await expect(transport.send(mail)).rejects.toMatchObject({ transient: false, reason: 'closed' });
  });
});
