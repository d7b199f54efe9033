import { ConnectorException, IntegrationError } from '../../common/connector.exception';

export enum SpectrumExceptionCode {
  /** Every Spectrum permit is held by exports: a read (the preview) waited long enough. */
  Busy = 'spectrum_busy',
  /** Spectrum could not be read (for the preview). */
  Unreadable = 'spectrum_unreadable',
}

/** What the Spectrum module refuses or cannot do for a request, and why. */
export class SpectrumException extends ConnectorException<SpectrumExceptionCode> {}

/**
 * Errors raised by the Spectrum client. Each says whether trying again later can help
 * (`transient`): the exporter retries transient ones and records permanent ones on the row.
 */
export abstract class SpectrumError extends IntegrationError {
  /** Spectrum service the call went to (`AddPhase`, `GetPhase`, …), when known. */
  readonly service?: string;

  constructor(message: string, service?: string, options?: { cause?: unknown }) {
    super(service ? `Spectrum ${service}: ${message}` : `Spectrum: ${message}`, options);
    this.service = service;
  }

  /**
   * What identifies this failure for the "repeats identically" rule: two attempts that failed
   * with the same signature got the same answer from the server. Undefined for failures that
   * carry no answer (timeouts, network errors, cut-off responses).
   */
  get signature(): string | undefined {
    return undefined;
  }
}

/**
 * Not sent: this process is stopping (SpectrumSoapClient.stopNewCalls). Transient — another worker
 * makes the call — and never retried here.
 */
export class SpectrumCallsStoppedError extends SpectrumError {
  readonly transient = true;
  constructor(service?: string) {
    super('not called: this process is stopping', service);
  }
}

/** The connection failed: refused, reset, DNS, TLS. */
export class SpectrumNetworkError extends SpectrumError {
  readonly transient = true;
  constructor(
    readonly code: string | undefined,
    detail: string,
    service?: string,
    options?: { cause?: unknown },
  ) {
    super(`network error${code ? ` (${code})` : ''}: ${detail}`, service, options);
  }
}

/** No complete answer within the configured timeout. The server may still have applied a write. */
export class SpectrumTimeoutError extends SpectrumError {
  readonly transient = true;
  constructor(
    readonly timeoutMs: number,
    service?: string,
  ) {
    super(`no complete response within ${timeoutMs} ms`, service);
  }
}

/** A SOAP fault. `SOAP-ENV:Server` ("Error executing Web Service") is transient; client faults are not. */
export class SpectrumFaultError extends SpectrumError {
  readonly transient: boolean;
  constructor(
    readonly faultCode: string,
    readonly faultString: string,
    readonly httpStatus: number,
    service?: string,
  ) {
    super(`SOAP fault ${faultCode || '(no code)'}: ${faultString || '(no message)'}`, service);
    this.transient = !/(^|:)Client$/i.test(faultCode.trim());
  }

  override get signature(): string {
    return `fault|${this.faultCode}|${this.faultString}`;
  }
}

/** An HTTP status that is not a SOAP answer: 5xx and 429 are transient, other 4xx are not. */
export class SpectrumHttpError extends SpectrumError {
  readonly transient: boolean;
  constructor(
    readonly status: number,
    readonly bodyExcerpt: string,
    service?: string,
  ) {
    super(`HTTP ${status}${bodyExcerpt ? `: ${bodyExcerpt}` : ''}`, service);
    this.transient = status >= 500 || status === 429 || status === 408;
  }

  override get signature(): string {
    return `http|${this.status}|${this.bodyExcerpt}`;
  }
}

/** The body is not the SOAP answer expected (an HTML page from a proxy, an unparseable amount…). */
export class SpectrumResponseFormatError extends SpectrumError {
  constructor(
    message: string,
    readonly transient: boolean,
    service?: string,
  ) {
    super(message, service);
  }

  override get signature(): string {
    return `format|${this.message}`;
  }
}

export type SpectrumTruncation = 'between-records' | 'inside-record' | 'before-records';

/**
 * The response was cut off before its closing tags and the records may not all be there. Never
 * conclude anything from such a read (not "job missing", not "row missing"): read it again.
 */
export class SpectrumIncompleteResponseError extends SpectrumError {
  readonly transient = true;
  constructor(
    readonly truncation: SpectrumTruncation,
    /** Records that arrived whole before the cut; for diagnostics only. */
    readonly recordsRead: number,
    service?: string,
  ) {
    super(
      truncation === 'inside-record'
        ? `response cut off inside a record after ${recordsRead} whole record(s); read it again`
        : `response cut off before its closing tags after ${recordsRead} whole record(s); read it again`,
      service,
    );
  }
}

/** Credentials were refused (HTTP 401/403, token endpoint rejecting the client). Not retried. */
export class SpectrumAuthError extends SpectrumError {
  readonly transient = false;
  constructor(message: string, readonly status?: number, service?: string) {
    super(message, service);
  }
}

/**
 * A request the connector refuses to send because Spectrum would misread it (a job number holding
 * SuperSelect operators would read other jobs). Sending it again gives the same answer.
 */
export class SpectrumRequestError extends SpectrumError {
  readonly transient = false;
  constructor(message: string, service?: string) {
    super(message, service);
  }
}

/** One problem Spectrum reported for a call: `code` A, I, M (errors) or W, G, S (notes). */
export interface SpectrumMessage {
  code: string;
  message: string;
  /** The field Spectrum blames, e.g. `Cost_Type`; empty when it names none. */
  column: string;
}

/**
 * Spectrum refused the data (`A` abort/not authorised, `I` invalid, `M` missing). Sending the same
 * data again gives the same answer, so it is never retried.
 */
export class SpectrumDataError extends SpectrumError {
  readonly transient = false;
  constructor(
    readonly errors: SpectrumMessage[],
    service?: string,
  ) {
    super(errors.map(describeMessage).join('; ') || 'rejected without a message', service);
  }

  get code(): string {
    return this.errors[0]?.code ?? '';
  }
}

/**
 * Every attempt of one call failed with a transient error. Still transient: Spectrum's
 * `SOAP-ENV:Server` fault is intermittent even when it repeats, so the job retries later with
 * backoff. `repeatedIdentically` says each attempt got the identical answer from the server (the
 * same fault for the same call): the exporter reports such a row as permanent on the queue's
 * final attempt ("Spectrum kept failing: …").
 */
export class SpectrumRetriesExhaustedError extends SpectrumError {
  readonly transient = true;
  constructor(
    readonly attempts: number,
    readonly lastError: SpectrumError,
    readonly repeatedIdentically: boolean,
    service?: string,
  ) {
    super(
      `gave up after ${attempts} attempt(s)${repeatedIdentically ? ' (same answer every time)' : ''}: ` +
        stripPrefix(lastError.message),
      service,
      { cause: lastError },
    );
  }
}

export function describeMessage(m: SpectrumMessage): string {
  const text = m.message || '(no description)';
  return `${m.code} ${text}${m.column ? ` [${m.column}]` : ''}`;
}

function stripPrefix(message: string): string {
  return message.replace(/^Spectrum( \w+)?: /, '');
}
