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
/** Deeper than this, PostgreSQL's jsonb input can run out of stack; Procore's payloads are flat. */
const MAX_DEPTH = 64;
// A lone UTF-16 surrogate: JSON can carry it escaped, UTF-8 (and so PostgreSQL) cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

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
  // `null` is as good as absent: a key like `id:null` would make every later such event a duplicate.
  if (isAbsent(payload.id) && isAbsent(payload.ulid)) problems.push('the payload needs an id or a ulid to be deduplicated');
  const unstorable = findUnstorableText(payload);
  if (unstorable) problems.push(unstorable);
  if (problems.length || resourceName === null || eventType === null || (ulid === null && procoreEventId === null)) return { problems };

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

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

/**
 * The first text (key or value, at any depth) PostgreSQL cannot store, named by its path: a NUL
 * character or a lone surrogate; or nesting too deep to store. Such a payload is refused with a
 * 400: storing it would fail with a 500, and Procore would deliver it again forever.
 */
function findUnstorableText(payload: Record<string, unknown>): string | undefined {
  const flaw = (text: string): string | undefined =>
    text.includes('\u0000')
      ? 'a NUL character (\\u0000)'
      : LONE_SURROGATE.test(text)
        ? 'an unpaired UTF-16 surrogate'
        : undefined;
  // Depth first, in document order, without recursion (the body may be nested deeply on purpose).
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: payload, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const found = flaw(value);
      if (found) return `${path} contains ${found}, which cannot be stored`;
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return `${path} is nested deeper than ${MAX_DEPTH} levels`;
    const children: Array<{ value: unknown; path: string; depth: number }> = [];
    if (Array.isArray(value)) {
      value.forEach((item, index) => children.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 }));
    } else {
      for (const [key, item] of Object.entries(value)) {
        const found = flaw(key);
        if (found) return `a field name in ${path || 'the payload'} contains ${found}, which cannot be stored`;
        children.push({ value: item, path: path ? `${path}.${key}` : key, depth: depth + 1 });
      }
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
  return undefined;
}
