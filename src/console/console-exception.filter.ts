import { ArgumentsHost, Catch, ExceptionFilter, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { describeException } from '../http/exception-status';
import { ConsoleRequest, CsrfRefused, SignInRequired } from './console-auth.guard';
import { ConsolePages } from './console-pages';
import { signInPath } from './safe-next';

/**
 * Errors on console routes: no session → the sign-in page (then back to where the visitor was
 * going); anything else → a page that says what happened, with the status code. Calls from the
 * console's script (Accept: application/json) get the API's JSON error shape instead.
 */
@Catch()
@Injectable()
export class ConsoleExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Console');

  constructor(private readonly pages: ConsolePages) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const request = host.switchToHttp().getRequest<ConsoleRequest>();
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) return;
    const json = wantsJson(request);
    if (exception instanceof SignInRequired) {
      const next = request.method === 'GET' ? request.originalUrl : refererPath(request);
      const location = signInPath(next, exception.reason === 'ended' ? 'ended' : undefined);
      if (json) {
        response.status(401).json({ statusCode: 401, error: 'Unauthorized', message: 'Your console session has ended; sign in again', signIn: location });
      } else {
        response.redirect(303, location);
      }
      return;
    }
    const { status, message } = describe(exception);
    if (status >= 500) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    if (json) {
      response.status(status).json({ statusCode: status, error: status >= 500 ? 'Internal Server Error' : 'Error', message });
      return;
    }
    if (request.headers['x-console-fragment']) {
      // A part of a page the script loads (the preview): the message alone, in place.
      response.status(status).type('html').send(this.pages.fragment('message', { kind: 'error', text: message }));
      return;
    }
    response
      .status(status)
      .type('html')
      .send(this.pages.render(request.consoleSession ?? null, 'error', { title: titleOf(status), status, message }));
  }
}

function describe(exception: unknown): { status: number; message: string } {
  if (exception instanceof CsrfRefused) return { status: 403, message: exception.message };
  const { statusCode, message } = describeException(exception);
  if (statusCode >= 500 && statusCode < 501) return { status: 500, message: 'Something went wrong on our side; it has been logged. Try again, or use the API.' };
  return { status: statusCode, message };
}

function titleOf(status: number): string {
  return { 400: 'Not understood', 403: 'Not allowed', 404: 'Not found', 409: 'Not possible now' }[status] ?? (status >= 500 ? 'Something went wrong' : 'Not possible');
}

export function wantsJson(request: Request): boolean {
  return (request.headers.accept ?? '').includes('application/json');
}

/** Where a form was posted from, when it was a console page (to come back there after sign-in). */
function refererPath(request: Request): string | undefined {
  const referer = request.headers.referer;
  if (!referer) return undefined;
  try {
    const url = new URL(referer);
    return url.host === request.headers.host ? url.pathname + url.search : undefined;
  } catch {
    return undefined;
  }
}
