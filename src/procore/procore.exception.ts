import { ConnectorException } from '../common/connector.exception';

export enum ProcoreExceptionCode {
  /** A webhook delivery could not be stored (the database is unavailable): Procore delivers it again. */
  WebhookNotStored = 'webhook_not_stored',
  /** The project is outside PROCORE_PROJECT_IDS: nothing is sent, read or locked. */
  OutOfScope = 'out_of_scope',
}

/** What the Procore module cannot do for a request, and why. (Procore's own failures are ProcoreError.) */
export class ProcoreException extends ConnectorException<ProcoreExceptionCode> {}
