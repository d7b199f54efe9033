/** The parts of a Procore v2 webhook delivery the connector stores and acts on. */
export interface WebhookDelivery {
  /** `ulid:<ulid>`, or `id:<id>` when the delivery has no ulid. */
  dedupeKey: string;
  ulid: string | null;
  procoreEventId: number | null;
  resourceName: string;
  eventType: string;
  resourceId: number | null;
  projectId: number | null;
  companyId: number | null;
  userId: number | null;
  /** The whole body as received, extra fields included. */
  payload: Record<string, unknown>;
}

export type WebhookParseResult = { delivery: WebhookDelivery } | { problems: string[] };

const ULID = /^[0-9A-Za-z]{10,64}$/;

/**
 * Validates a v2 payload (procore-api.md, "Webhooks"): ids are whole numbers, `ulid`,
 * `resource_name` and `event_type` are text; unknown fields are kept. Every problem is named.
 */
export function parseWebhookPayload(body: unknown): WebhookParseResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { problems: ['the body must be a JSON object (a Procore v2 webhook payload)'] };
  }
  const payload = body as Record<string, unknown>;
  const problems: string[] = [];
  const id = (name: string, required = false): number | null => {
    const value = payload[name];
    if (value === undefined || value === null) {
      if (required) problems.push(`${name} is required`);
      return null;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      problems.push(`${name} must be a positive whole number`);
      return null;
    }
    return value;
  };
  const text = (name: string, maxLength: number): string | null => {
    const value = payload[name];
    if (typeof value !== 'string' || !value.trim()) {
      problems.push(`${name} must be non-empty text`);
      return null;
    }
    if (value.length > maxLength) {
      problems.push(`${name} is longer than ${maxLength} characters`);
      return null;
    }
    return value.trim();
  };

  const procoreEventId = id('id');
  let ulid: string | null = null;
  if (payload.ulid !== undefined && payload.ulid !== null) {
    if (typeof payload.ulid !== 'string' || !ULID.test(payload.ulid)) problems.push('ulid must be text of 10 to 64 letters and digits');
    else ulid = payload.ulid.toUpperCase();
  }
  const resourceName = text('resource_name', 200);
  const eventType = text('event_type', 50);
  const resourceId = id('resource_id');
  const projectId = id('project_id');
  const companyId = id('company_id');
  const userId = id('user_id');
  if (payload.metadata !== undefined && payload.metadata !== null && (typeof payload.metadata !== 'object' || Array.isArray(payload.metadata))) {
    problems.push('metadata must be an object');
  }
  if (payload.id === undefined && payload.ulid === undefined) problems.push('the payload needs an id or a ulid to be deduplicated');
  if (problems.length || resourceName === null || eventType === null) return { problems };

  return {
    delivery: {
      dedupeKey: ulid ? `ulid:${ulid}` : `id:${procoreEventId}`,
      ulid,
      procoreEventId,
      resourceName,
      eventType: eventType.toLowerCase(),
      resourceId,
      projectId,
      companyId,
      userId,
      payload,
    },
  };
}
