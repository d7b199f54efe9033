export { escapeHtml, InboxServer } from './smtp-inbox';
export { SmtpStandIn } from './smtp-stand-in';
export type { ReceivedMessage, SmtpStandInOptions, TransientCode } from './smtp-stand-in';
