import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import type { ReceivedMessage } from './smtp-stand-in';

/**
 * The demo's web inbox for the SMTP stand-in, on 127.0.0.1 only:
 *
 *   GET /                   received messages, newest first
 *   GET /messages/:id       one message: headers, text part, HTML part (sandboxed frame)
 *   GET /messages/:id/html  the HTML part as sent, under a CSP sandbox (no scripts, no requests)
 *   GET /messages/:id/text  the text part
 *   GET /messages.json      every message as JSON, newest first
 *   DELETE /messages        forget every message
 */
export class InboxServer {
  private server: Server | null = null;

  constructor(
    private readonly list: () => readonly ReceivedMessage[],
    private readonly clear: () => void,
  ) {}

  async start(port = 0): Promise<{ port: number; url: string }> {
    if (!this.server) {
      const server = createServer((request, response) => this.handle(request, response));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
    }
    const bound = (this.server.address() as AddressInfo).port;
    return { port: bound, url: `http://127.0.0.1:${bound}` };
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = new URL(request.url ?? '/', 'http://inbox').pathname;
    const newestFirst = [...this.list()].reverse();
    const byId = (id: string) => newestFirst.find((m) => String(m.id) === id);
    let match: RegExpExecArray | null;

    if (request.method === 'DELETE' && path === '/messages') {
      this.clear();
      return send(response, 204, 'text/plain; charset=utf-8', '');
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return send(response, 405, 'text/plain; charset=utf-8', 'method not allowed\n');
    }
    if (path === '/') return send(response, 200, 'text/html; charset=utf-8', listPage(newestFirst));
    if (path === '/messages.json') {
      const body = JSON.stringify(newestFirst.map(({ raw: _raw, ...message }) => message), null, 2);
      return send(response, 200, 'application/json; charset=utf-8', body);
    }
    if ((match = /^\/messages\/(\d+)$/.exec(path))) {
      const message = byId(match[1]);
      return message
        ? send(response, 200, 'text/html; charset=utf-8', messagePage(message))
        : send(response, 404, 'text/plain; charset=utf-8', 'no such message\n');
    }
    if ((match = /^\/messages\/(\d+)\/(html|text)$/.exec(path))) {
      const message = byId(match[1]);
      if (!message) return send(response, 404, 'text/plain; charset=utf-8', 'no such message\n');
      if (match[2] === 'text') return send(response, 200, 'text/plain; charset=utf-8', message.text ?? '');
      // The email's own HTML: shown as sent, but sandboxed so it cannot run scripts or load anything.
      return send(response, 200, 'text/html; charset=utf-8', message.html ?? '', {
        'Content-Security-Policy': "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
      });
    }
    return send(response, 404, 'text/plain; charset=utf-8', 'not found\n');
  }
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...headers,
  });
  response.end(body);
}

/** Escapes text for HTML content and quoted attributes. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  body { font: 14px/1.45 system-ui, Arial, sans-serif; margin: 24px; color: #111827; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
  th { color: #374151; font-size: 12px; text-transform: uppercase; }
  pre { background: #f9fafb; padding: 12px; white-space: pre-wrap; border: 1px solid #e5e7eb; }
  iframe { width: 100%; height: 900px; border: 1px solid #e5e7eb; }
  .muted { color: #6b7280; }
`;

function page(title: string, body: string, refreshSeconds?: number): string {
  const refresh = refreshSeconds ? `\n<meta http-equiv="refresh" content="${refreshSeconds}">` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>${refresh}
<style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

function listPage(messages: readonly ReceivedMessage[]): string {
  const rows = messages
    .map(
      (m) => `<tr>
  <td><a href="/messages/${m.id}">${escapeHtml(m.subject || '(no subject)')}</a></td>
  <td>${escapeHtml(m.envelope.rcptTo.join(', '))}</td>
  <td class="muted">${escapeHtml(m.receivedAt.toISOString())}</td>
</tr>`,
    )
    .join('\n');
  const count = `${messages.length} message${messages.length === 1 ? '' : 's'}`;
  return page(
    'SMTP stand-in inbox',
    `<h1>SMTP stand-in inbox</h1>
<p class="muted">${count}, newest first. <a href="/messages.json">JSON</a></p>
<table><tr><th>Subject</th><th>To</th><th>Received</th></tr>
${rows || '<tr><td colspan="3" class="muted">No messages yet.</td></tr>'}
</table>`,
    5,
  );
}

function messagePage(m: ReceivedMessage): string {
  const headers = Object.entries(m.headers)
    .map(([key, value]) => `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(value)}</td></tr>`)
    .join('\n');
  return page(
    m.subject || '(no subject)',
    `<p><a href="/">&larr; Inbox</a></p>
<h1>${escapeHtml(m.subject || '(no subject)')}</h1>
<table>
<tr><th>From</th><td>${escapeHtml(m.from)}</td></tr>
<tr><th>To (envelope)</th><td>${escapeHtml(m.envelope.rcptTo.join(', '))}</td></tr>
<tr><th>Received</th><td>${escapeHtml(m.receivedAt.toISOString())}</td></tr>
</table>
<h2>HTML part</h2>
${m.html === null ? '<p class="muted">None.</p>' : `<iframe sandbox src="/messages/${m.id}/html" title="HTML part"></iframe>`}
<h2>Text part</h2>
${m.text === null ? '<p class="muted">None.</p>' : `<pre>${escapeHtml(m.text)}</pre>`}
<h2>Headers</h2>
<table>${headers}</table>`,
  );
}
