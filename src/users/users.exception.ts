import { ConnectorException } from '../common/connector.exception';

export enum UsersExceptionCode {
  UserNotFound = 'user_not_found',
  TokenNotFound = 'token_not_found',
  EmailTaken = 'email_taken',
  /** The change would leave no active admin. */
  LastAdmin = 'last_admin',
  UserDeactivated = 'user_deactivated',
  /** Only an admin (or the user themselves, for some changes) may do this. */
  NotAllowed = 'not_allowed',
}

/** What the users module refuses, and why. */
export class UsersException extends ConnectorException<UsersExceptionCode> {}
