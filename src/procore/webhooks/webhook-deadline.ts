/**
 * Procore gives up on an answer after 5 s, and a timeout pauses every delivery to the endpoint
 * (docs/procore.md, "Webhooks"). So each authenticated delivery has one deadline, started when the
 * request reaches the handler: the body read and the store share it (the store gets what the body
 * read left), and the answer — 2xx, or 503 when nothing could be stored — goes out before it.
 * 500 ms are left for the answer to travel and for the time spent before the handler.
 */
export const WEBHOOK_ANSWER_DEADLINE_MS = 4500;

export interface WebhookDeadline {
  /** Milliseconds left before the answer is due (never negative). */
  remainingMs(): number;
}

/** A deadline `ms` from now, read from `now` (Date.now; jest's fake timers replace it). */
export function webhookDeadline(ms: number = WEBHOOK_ANSWER_DEADLINE_MS, now: () => number = Date.now): WebhookDeadline {
  const at = now() + ms;
  return { remainingMs: () => Math.max(0, at - now()) };
}
