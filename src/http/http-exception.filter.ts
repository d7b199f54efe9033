import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { describeException, REASONS } from './exception-status';

/** Every error leaves as `{statusCode, error, message}` with a message a person can act on. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { statusCode, message, details } = describeException(exception);
    if (statusCode === 500) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    } else if (statusCode > 500) {
      this.logger.warn(message);
    }
    if (response.headersSent) return;
    response.status(statusCode).json({
      statusCode,
      error: REASONS[statusCode] ?? 'Error',
      message,
      ...(details ?? {}),
    });
  }
}
