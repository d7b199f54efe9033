import type { Readable } from 'node:stream';
import { WEBHOOK_BODY_LIMIT_BYTES, WebhookBody } from './webhook-payload';

/**
 * The longest a body may take to arrive, within the delivery's deadline (webhook-deadline.ts):
 * whatever it leaves is the store's, so a slow body still leaves at least 1.5 s to store it.
 */
export const WEBHOOK_BODY_TIMEOUT_MS = 3000;

/**
 * Reads a delivery's raw body (the route has no JSON body parser: the Authorization header is
 * checked before a byte is read, and a body the connector cannot use is still answered 2xx).
 * Never rejects: a body over the limit, cut off or too slow comes back with `incomplete` set and
 * whatever arrived; the rest of the request is discarded.
 */
export function readWebhookBody(
  request: Readable,
  options: { limitBytes?: number; timeoutMs?: number } = {},
): Promise<WebhookBody> {
  const limit = options.limitBytes ?? WEBHOOK_BODY_LIMIT_BYTES;
  const timeoutMs = options.timeoutMs ?? WEBHOOK_BODY_TIMEOUT_MS;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let total = 0;
    let settled = false;
    const finish = (incomplete?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', onEnd);
      request.off('error', onError);
      request.off('aborted', onAborted);
      // Whatever else comes is read and dropped, so the connection is not left hanging.
      if (incomplete) request.on('error', () => undefined).resume();
      resolve({ bytes: Buffer.concat(chunks, kept), totalBytes: total, incomplete });
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (kept < limit) {
        const part = chunk.subarray(0, limit - kept);
        chunks.push(part);
        kept += part.length;
      }
      if (total > limit) finish(`the body is larger than the ${Math.round(limit / 1024)} kB limit`);
    };
    const onEnd = () => finish();
    const onError = (error: Error) => finish(`the body could not be read: ${error.message}`);
    const onAborted = () => finish('the body was cut off (the connection closed before it ended)');
    const timer = setTimeout(() => finish(`the body did not arrive within ${Math.round(timeoutMs) / 1000} s`), timeoutMs);

    if (request.readableEnded) return finish('the body had already been read by another handler');
    request.on('data', onData);
    request.on('end', onEnd);
    request.on('error', onError);
    request.on('aborted', onAborted);
  });
}
