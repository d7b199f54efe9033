/** Small JSON-over-HTTP helpers for tests that talk to the real HTTP server. */
export interface HttpResult<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

export const api = (baseUrl: string, token?: string) => ({
  get: <T = any>(path: string, opts: { token?: string } = {}) => request<T>(baseUrl, 'GET', path, { token, ...opts }),
  post: <T = any>(path: string, body?: unknown, opts: { token?: string } = {}) => request<T>(baseUrl, 'POST', path, { token, body, ...opts }),
  patch: <T = any>(path: string, body?: unknown, opts: { token?: string } = {}) => request<T>(baseUrl, 'PATCH', path, { token, body, ...opts }),
});
