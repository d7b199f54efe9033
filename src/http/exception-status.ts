import { HttpException, HttpStatus } from '@nestjs/common';
import { BudgetsException, BudgetsExceptionCode } from '../budgets/budgets.exception';
import { ConnectorException, InputException, InputExceptionCode } from '../common/connector.exception';
import { ProcoreException, ProcoreExceptionCode } from '../procore/procore.exception';
import { SpectrumException, SpectrumExceptionCode } from '../spectrum/client/spectrum.errors';
import { UsersException, UsersExceptionCode } from '../users/users.exception';

/**
 * The one place that knows HTTP statuses: each module's exception codes, mapped. A `Record` per
 * code enum, so a code added without a status fails to compile. The API's filter and the console's
 * both ask `describeException`.
 */
const BUDGETS: Record<BudgetsExceptionCode, HttpStatus> = {
  [BudgetsExceptionCode.SubmissionNotFound]: HttpStatus.NOT_FOUND,
  [BudgetsExceptionCode.NoReconciliationReport]: HttpStatus.NOT_FOUND,
  [BudgetsExceptionCode.TransitionRefused]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.ChangedMeanwhile]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.ProjectBusy]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.HasProblems]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.NothingToRewrite]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.UnlockRefused]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.AlreadyUnlocked]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.NotRemappable]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.BudgetUnchanged]: HttpStatus.CONFLICT,
  [BudgetsExceptionCode.SenderMayNotAccept]: HttpStatus.FORBIDDEN,
  [BudgetsExceptionCode.MayNotRetrieve]: HttpStatus.FORBIDDEN,
};

const USERS: Record<UsersExceptionCode, HttpStatus> = {
  [UsersExceptionCode.UserNotFound]: HttpStatus.NOT_FOUND,
  [UsersExceptionCode.TokenNotFound]: HttpStatus.NOT_FOUND,
  [UsersExceptionCode.EmailTaken]: HttpStatus.CONFLICT,
  [UsersExceptionCode.LastAdmin]: HttpStatus.CONFLICT,
  [UsersExceptionCode.UserDeactivated]: HttpStatus.CONFLICT,
  [UsersExceptionCode.NotAllowed]: HttpStatus.FORBIDDEN,
};

const INPUT: Record<InputExceptionCode, HttpStatus> = {
  [InputExceptionCode.InvalidId]: HttpStatus.BAD_REQUEST,
  [InputExceptionCode.InvalidInput]: HttpStatus.BAD_REQUEST,
};

const SPECTRUM: Record<SpectrumExceptionCode, HttpStatus> = {
  [SpectrumExceptionCode.Busy]: HttpStatus.SERVICE_UNAVAILABLE,
  [SpectrumExceptionCode.Unreadable]: HttpStatus.SERVICE_UNAVAILABLE,
};

const PROCORE: Record<ProcoreExceptionCode, HttpStatus> = {
  [ProcoreExceptionCode.WebhookNotStored]: HttpStatus.SERVICE_UNAVAILABLE,
  [ProcoreExceptionCode.OutOfScope]: HttpStatus.FORBIDDEN,
};

export const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface DescribedException {
  statusCode: number;
  message: string;
  /** The module's code, for a ConnectorException. */
  code?: string;
  details?: Record<string, unknown>;
}

function statusOf(exception: ConnectorException): HttpStatus {
  if (exception instanceof BudgetsException) return BUDGETS[exception.code];
  if (exception instanceof UsersException) return USERS[exception.code];
  if (exception instanceof InputException) return INPUT[exception.code];
  if (exception instanceof SpectrumException) return SPECTRUM[exception.code];
  if (exception instanceof ProcoreException) return PROCORE[exception.code];
  return HttpStatus.INTERNAL_SERVER_ERROR;
}

/** An error as HTTP answers it: status, message (never an internal one for a 500), code and details. */
export function describeException(exception: unknown): DescribedException {
  if (exception instanceof ConnectorException) {
    return { statusCode: statusOf(exception), message: exception.message, code: exception.code, details: exception.details };
  }
  if (exception instanceof HttpException) {
    const body = exception.getResponse();
    const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
    return { statusCode: exception.getStatus(), message };
  }
  const other = exception as { status?: number; statusCode?: number };
  const status = other?.status ?? other?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { statusCode: status, message: (exception as Error).message || REASONS[status] || 'Bad request' };
  }
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Something went wrong on our side; it has been logged' };
}
