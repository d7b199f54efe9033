import type { NextFunction, Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

/** The API answers JSON: nothing it sends may load anything, be framed, or post anywhere. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** The OpenAPI UI: its own scripts and stylesheet (it also uses inline styles), never framed. */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** A printable HTML report: its own inline styles only; no script, no fetch, never framed. */
export const HTML_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const DOCS_PATH = '/api/docs';
/** Bull Board (the queue dashboard) serves its own scripts and styles, like the docs UI. */
const DASHBOARD_PATH = '/admin/queues';

function under(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Helmet's headers on every response — `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
 * a referrer policy, cross-origin isolation headers, HSTS — and a Content-Security-Policy: the
 * strict API one, or the docs UI's (also for the queue dashboard). Routes that render HTML of their own (reports, the console)
 * replace the CSP with theirs.
 */
export function securityHeaders(): RequestHandler {
  const helmetHeaders = helmet({
    // Set below as one header value, so every directive is exactly what is written above.
    contentSecurityPolicy: false,
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Browsers ignore it over plain http; behind TLS it keeps them on https.
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: false },
  }) as unknown as RequestHandler;
  return (request: Request, response: Response, next: NextFunction) => {
    const onDocs = under(request.path, DOCS_PATH) || under(request.path, DASHBOARD_PATH);
    response.setHeader('Content-Security-Policy', onDocs ? DOCS_CSP : API_CSP);
    helmetHeaders(request, response, next);
  };
}
