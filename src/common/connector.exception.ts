/**
 * The base of every error the connector raises on purpose: a module's exception type carries one
 * of that module's codes (an enum in `<module>.exception.ts`) and a message a person can act on.
 * No HTTP here: the one HTTP filter (src/http) maps codes to statuses; workers switch on codes.
 */
export abstract class ConnectorException<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    /** Fields added to the error's JSON (e.g. the current `status`, the `problems`). */
    readonly details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * The base of the errors of the systems the connector talks to (Procore, Spectrum, SMTP) and of
 * work that depends on them. Each says whether it is `transient` — worth trying again later — so
 * retries are decided by data, not by error type.
 */
export abstract class IntegrationError extends Error {
  abstract readonly transient: boolean;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Worth trying again later (an integration error that says so). */
export function isTransient(error: unknown): boolean {
  return error instanceof IntegrationError && error.transient;
}

export enum InputExceptionCode {
  InvalidId = 'invalid_id',
  InvalidInput = 'invalid_input',
}

/** Input the connector refuses before any module looks at it (an id that is not one). */
export class InputException extends ConnectorException<InputExceptionCode> {}
