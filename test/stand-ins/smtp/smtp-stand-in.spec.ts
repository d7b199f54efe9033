import { createConnection } from 'node:net';
import { MailTransport } from '../../../src/notifications/mail-transport';
import { SmtpStandIn } from './smtp-stand-in';

/** The stand-in itself: what it keeps, how it goes down and up, and its web inbox. */
describe('SmtpStandIn', () => {
  const smtp = new SmtpStandIn();
  let transport: MailTransport;
  let inboxUrl: string;

  beforeAll(async () => {
    const { url } = await smtp.start();
    ({ url: inboxUrl } = await smtp.startInbox());
    transport = new MailTransport({ smtpUrl: url, from: 'Connector <erp@example.com>', connectionTimeoutMs: 1000 });
  });
  afterAll(async () => {
    transport.close();
    await smtp.stop();
  });
  beforeEach(() => smtp.clear());

  const send = (subject: string, html = '<p>hello</p>', to = 'dana@example.com') =>
    transport.send({ to, subject, html, text: 'hello & <goodbye>' });

  it('accepts mail without AUTH and keeps it parsed', async () => {
    await send('First', '<p>one</p>', 'Dana <dana@example.com>');
    const [message] = await smtp.waitForMessages(1);
    expect(message).toMatchObject({
      to: ['dana@example.com'],
      from: '"Connector" <erp@example.com>',
      subject: 'First',
      html: '<p>one</p>',
      text: 'hello & <goodbye>',
      authUser: null,
      envelope: { mailFrom: 'erp@example.com', rcptTo: ['dana@example.com'] },
    });
    expect(message.receivedAt).toBeInstanceOf(Date);
    expect(message.raw).toContain('Subject: First');
  });

  it('reports what arrived when waiting times out', async () => {
    await send('Only one');
    await expect(smtp.waitForMessages(2, 200)).rejects.toThrow('expected 2 message(s) within 200 ms, got 1: "Only one"');
  });

  it('refuses connections while down and listens on the same port when up', async () => {
    const port = smtp.port;
    await smtp.down();
    const refused = await new Promise<string>((resolve) => {
      const socket = createConnection(port, '127.0.0.1');
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
      socket.on('connect', () => {
        socket.destroy();
        resolve('connected');
      });
    });
    expect(refused).toBe('ECONNREFUSED');
    await smtp.up();
    expect(smtp.port).toBe(port);
    await send('After up');
    await smtp.waitForMessages(1);
  });

  describe('inbox', () => {
    beforeEach(async () => {
      await send('Older');
      await send('Budget <b>rejected</b> & "quoted"', '<p onclick="x()">Hi <script>alert(1)</script></p>');
      await smtp.waitForMessages(2);
    });

    it('lists messages newest first, escaped', async () => {
      const response = await fetch(`${inboxUrl}/`);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const page = await response.text();
      expect(page).toContain('Budget &#60;b&#62;rejected&#60;/b&#62; &#38; &#34;quoted&#34;');
      expect(page).not.toContain('<b>rejected</b>');
      expect(page.indexOf('rejected')).toBeLessThan(page.indexOf('Older'));
      expect(page).toContain('dana@example.com');
    });

    it('shows one message with its text escaped and its HTML sandboxed', async () => {
      const [newest] = (await (await fetch(`${inboxUrl}/messages.json`)).json()) as Array<{ id: number; subject: string }>;
      expect(newest.subject).toBe('Budget <b>rejected</b> & "quoted"');

      const page = await (await fetch(`${inboxUrl}/messages/${newest.id}`)).text();
      expect(page).toContain('<pre>hello &#38; &#60;goodbye&#62;</pre>');
      expect(page).toContain(`<iframe sandbox src="/messages/${newest.id}/html"`);

      const html = await fetch(`${inboxUrl}/messages/${newest.id}/html`);
      expect(html.headers.get('content-security-policy')).toMatch(/^sandbox;/);
      expect(await html.text()).toContain('<script>alert(1)</script>');

      const text = await fetch(`${inboxUrl}/messages/${newest.id}/text`);
      expect(text.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await text.text()).toBe('hello & <goodbye>');
    });

    it('serves JSON newest first without the raw source, answers 404s, and clears', async () => {
      const list = (await (await fetch(`${inboxUrl}/messages.json`)).json()) as Array<Record<string, unknown>>;
      expect(list.map((m) => m.subject)).toEqual(['Budget <b>rejected</b> & "quoted"', 'Older']);
      expect(list[0]).not.toHaveProperty('raw');
      expect(list[0]).toHaveProperty('headers');
      expect((await fetch(`${inboxUrl}/messages/99999`)).status).toBe(404);
      expect((await fetch(`${inboxUrl}/nope`)).status).toBe(404);
      expect((await fetch(`${inboxUrl}/messages`, { method: 'DELETE' })).status).toBe(204);
      expect(smtp.messages).toHaveLength(0);
    });
  });
});
