/** Where SMTP_URL points: read once by the configuration (to refuse a bad one at start) and by the mail transport. */
export interface SmtpTarget {
  host: string;
  port: number;
  secure: boolean;
  auth?: { user: string; pass: string };
  /** The URL without its password. */
  redacted: string;
}

/** Reads `smtp(s)://[user[:pass]@]host[:port]`; never echoes the password in an error. */
export function parseSmtpUrl(smtpUrl: string): SmtpTarget {
  let url: URL;
  try {
    url = new URL(smtpUrl);
  } catch {
    throw new Error('SMTP_URL is not a URL (smtp://host:port or smtps://user:pass@host:465)');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error('SMTP_URL must start with smtp:// or smtps://');
  }
  if (!url.hostname) throw new Error('SMTP_URL has no host');
  const secure = url.protocol === 'smtps:';
  const port = url.port ? Number(url.port) : secure ? 465 : 587;
  let user: string;
  let pass: string;
  try {
    user = decodeURIComponent(url.username);
    pass = decodeURIComponent(url.password);
  } catch {
    throw new Error('SMTP_URL has a user name or password that is not valid percent-encoding');
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const credentials = user ? `${encodeURIComponent(user)}${pass ? ':***' : ''}@` : '';
  return {
    host,
    port,
    secure,
    auth: user ? { user, pass } : undefined,
    redacted: `${url.protocol}//${credentials}${url.hostname}:${port}`,
  };
}
