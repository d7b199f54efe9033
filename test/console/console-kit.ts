/** Helpers for console tests that speak HTTP like a browser: cookies kept, redirects seen. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<ConsoleResponse> {
    return this.send('GET', path, undefined, headers);
  }

  /** A form post (application/x-www-form-urlencoded). */
  async post(path: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<ConsoleResponse> {
    return this.send('POST', path, new URLSearchParams(form).toString(), { 'content-type': 'application/x-www-form-urlencoded', ...headers });
  }

  /** The sign-in page's form value, then a token sign-in; returns the redirect. */
  async signInWithToken(token: string, next?: string): Promise<ConsoleResponse> {
    const page = await this.get(`/console/sign-in${next ? `?next=${encodeURIComponent(next)}` : ''}`);
    const signin = field(page.text, '_signin');
    return this.post('/console/sign-in/token', { _signin: signin!, token, next: next ?? '' });
  }

  /** The CSRF token the console put in a page's forms. */
  async csrf(path = '/console/me'): Promise<string> {
    const page = await this.get(path);
    const value = field(page.text, '_csrf');
    if (!value) throw new Error(`no CSRF field on ${path} (status ${page.status})`);
    return value;
  }

  private async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<ConsoleResponse> {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      body,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...headers },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair.indexOf('=');
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      if (!value || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: response.status, location: response.headers.get('location'), text: await response.text(), headers: response.headers };
  }
}

export interface ConsoleResponse {
  status: number;
  location: string | null;
  text: string;
  headers: Headers;
}

/** The value of a hidden form field in a page. */
export function field(html: string, name: string): string | undefined {
  return new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
}
