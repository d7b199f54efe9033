import { SmtpStandIn } from './smtp-stand-in';

/**
 * Runs the SMTP stand-in and its web inbox on their own, for trying the connector by hand:
 *   npx ts-node --transpile-only test/stand-ins/smtp/main.ts [smtpPort=2525] [inboxPort=8025]
 * Point SMTP_URL at the printed smtp:// address and open the inbox in a browser.
 */
async function main(): Promise<void> {
  const [smtpPort = '2525', inboxPort = '8025'] = process.argv.slice(2);
  const smtp = new SmtpStandIn();
  const { url } = await smtp.start(Number(smtpPort));
  const inbox = await smtp.startInbox(Number(inboxPort));
  console.log(`SMTP stand-in listening: SMTP_URL=${url}`);
  console.log(`Inbox: ${inbox.url}/`);
  const stop = () => void smtp.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
