import type { Request, Response } from 'express';

/** The few cookies the console sets, parsed and written without a dependency. */

export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const index = part.indexOf('=');
    if (index < 0 || part.slice(0, index).trim() !== name) continue;
    const value = part.slice(index + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export interface CookieOptions {
  /** Seconds; omitted = until the browser closes. */
  maxAge?: number;
  secure: boolean;
  path?: string;
}

/** httpOnly and SameSite=Lax always: scripts never read them and other sites never send them on a POST. */
export function writeCookie(response: Response, name: string, value: string, options: CookieOptions): void {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Path=${options.path ?? '/'}`, 'HttpOnly', 'SameSite=Lax'];
  if (options.maxAge !== undefined) parts.push(`Max-Age=${Math.max(0, Math.floor(options.maxAge))}`);
  if (options.secure) parts.push('Secure');
  response.append('Set-Cookie', parts.join('; '));
}

export function clearCookie(response: Response, name: string, options: Omit<CookieOptions, 'maxAge'>): void {
  writeCookie(response, name, '', { ...options, maxAge: 0 });
}
