import { isLosslessNumber, parse } from 'lossless-json';
import { isProjectLevel, knownResource } from './webhook-resources';

/** Bodies up to this size are read whole; Procore's events are well under 1 kB. */
export const WEBHOOK_BODY_LIMIT_BYTES = 1024 * 1024;
/** How much of a body that cannot be stored as JSON is kept for admins to see. */
export const UNUSABLE_EXCERPT_BYTES = 100 * 1024;

/** The bytes of a delivery as read from the request (see readWebhookBody). */
export interface WebhookBody {
  /** At most WEBHOOK_BODY_LIMIT_BYTES. */
  bytes: Buffer;
  /** How many bytes the request carried (more than `bytes` when it was over the limit). */
  totalBytes: number;
  /** Why the body is not all there (over the limit, cut off, too slow); undefined when complete. */
  incomplete?: string;
}

/** What is stored of one delivery: a usable event, or an unusable one with the reason. */
export interface WebhookRecord {
  status: 'received' | 'unusable';
  /** Why it cannot be used; null when usable. */
  reason: string | null;
  /** `ulid:<ulid>`, else `id:<id>`; null when the body has neither (stored as it came). */
  dedupeKey: string | null;
  ulid: string | null;
  /** Procore's event id as text, never through a double. */
  procoreEventId: string | null;
  /** The connector's name for the resource when it knows it, else Procore's. */
  resourceName: string | null;
  eventType: string | null;
  resourceId: string | null;
  projectId: string | null;
  companyId: string | null;
  userId: string | null;
  /** The body as JSON text for a jsonb column (PostgreSQL keeps its numbers exactly). */
  payloadJson: string | null;
  /** The first UNUSABLE_EXCERPT_BYTES of a body that cannot be stored as `payloadJson`. */
  rawBody: string | null;
}

/** Deeper than this, PostgreSQL's jsonb input can run out of stack; Procore's payloads are flat. */
const MAX_DEPTH = 64;
/** PostgreSQL bigint. */
const MAX_BIGINT = 2n ** 63n - 1n;
// A lone UTF-16 surrogate: JSON can carry it escaped, UTF-8 (and so PostgreSQL) cannot.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Reads a delivery (docs/procore.md, "Webhooks"): parses the raw bytes without losing digits (ids
 * are kept as text: Procore's event ids exceed 2^53), checks the fields the connector acts on, and
 * says what to store. Never throws: anything it cannot use is an `unusable` record with the reason,
 * keeping whatever could be read (the dedupe key above all, so a redelivery is still a duplicate).
 * Payload v2 names the fields `resource_name`/`event_type`; v4 `resource_type`/`reason`, with
 * every id as text: both are read.
 */
export function parseWebhookBody(body: WebhookBody): WebhookRecord {
  const record: WebhookRecord = {
    status: 'unusable',
    reason: null,
    dedupeKey: null,
    ulid: null,
    procoreEventId: null,
    resourceName: null,
    eventType: null,
    resourceId: null,
    projectId: null,
    companyId: null,
    userId: null,
    payloadJson: null,
    rawBody: null,
  };
  const unusable = (reason: string, keepJson = false): WebhookRecord => {
    record.status = 'unusable';
    record.reason = reason;
    if (!keepJson) {
      record.payloadJson = null;
      record.rawBody = excerpt(body.bytes);
    }
    return record;
  };

  if (body.incomplete) return unusable(body.incomplete);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body.bytes);
  } catch {
    return unusable('the body is not UTF-8 text');
  }
  if (!text.trim()) return unusable('the body is empty');
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    const message = error instanceof RangeError ? `it is nested too deeply` : (error as Error).message;
    return unusable(`the body is not valid JSON: ${message}`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document) || isLosslessNumber(document)) {
    return unusable(`the body must be a JSON object (a Procore webhook event), not ${describeJson(document)}`);
  }
  const payload = document as Record<string, unknown>;

  const problems: string[] = [];
  const eventId = readEventId(payload.id, problems);
  const ulid = readUlid(payload.ulid, problems);
  record.ulid = ulid;
  record.procoreEventId = eventId;
  // The key comes first: even an unusable delivery is stored once.
  record.dedupeKey = ulid !== null ? `ulid:${ulid}` : eventId !== null ? `id:${eventId}` : null;
  if (record.dedupeKey === null && !problems.length) problems.push('it has neither a ulid nor an id, so a redelivery could not be recognised');

  const resource = readText(payload, ['resource_name', 'resource_type'], 200, problems);
  const eventType = readText(payload, ['event_type', 'reason'], 50, problems);
  record.eventType = eventType?.toLowerCase() ?? null;
  record.resourceId = readId(payload, 'resource_id', problems);
  record.projectId = readId(payload, 'project_id', problems);
  record.companyId = readId(payload, 'company_id', problems);
  record.userId = readId(payload, 'user_id', problems);
  const metadata = payload.metadata;
  if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata) || isLosslessNumber(metadata))) {
    problems.push('metadata must be an object');
  }

  const unstorable = findUnstorableText(payload);
  if (unstorable) problems.push(unstorable);
  else record.payloadJson = text;

  if (resource !== null) {
    const known = knownResource(resource);
    record.resourceName = known ?? resource;
    if (!known) problems.push(`"${resource}" events are not ones the connector subscribes to`);
    else if (isProjectLevel(known) && record.projectId === null && !problems.some((p) => p.startsWith('project_id'))) {
      problems.push(`a "${known}" event needs project_id`);
    } else if (known === 'Projects' && record.resourceId === null && !problems.some((p) => p.startsWith('resource_id'))) {
      problems.push('a "Projects" event needs resource_id (the project)');
    }
  }

  if (problems.length) return unusable(problems.join('; '), record.payloadJson !== null);
  record.status = 'received';
  return record;
}

/** The event id: a whole number (as digits) or, as payload v4 sends it, opaque text. */
function readEventId(value: unknown, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (isLosslessNumber(value)) {
    if (/^\d{1,40}$/.test(value.value) && BigInt(value.value) > 0n) return BigInt(value.value).toString();
    problems.push('id must be a positive whole number or text');
    return null;
  }
  if (typeof value === 'string' && value.length >= 1 && value.length <= 64 && !CONTROL.test(value) && value.trim() === value) {
    return /^\d+$/.test(value) ? BigInt(value).toString() : value;
  }
  problems.push('id must be a positive whole number or text of 1 to 64 characters');
  return null;
}

/** `ulid` is opaque (DECISIONS: 1–64 characters; Procore's example has 24), kept exactly as sent. */
function readUlid(value: unknown, problems: string[]): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && value.length >= 1 && value.length <= 64 && !CONTROL.test(value) && value.trim() === value) return value;
  problems.push('ulid must be text of 1 to 64 characters');
  return null;
}

/** A Procore id as digits: a JSON whole number or digits in text, within PostgreSQL's bigint. */
function readId(payload: Record<string, unknown>, name: string, problems: string[]): string | null {
  const value = payload[name];
  if (value === undefined || value === null) return null;
  const digits = isLosslessNumber(value) ? value.value : typeof value === 'string' ? value : null;
  if (digits !== null && /^\d{1,19}$/.test(digits)) {
    const id = BigInt(digits);
    if (id > 0n && id <= MAX_BIGINT) return id.toString();
  }
  problems.push(`${name} must be a positive whole number (at most ${MAX_BIGINT})`);
  return null;
}

function readText(payload: Record<string, unknown>, names: string[], maxLength: number, problems: string[]): string | null {
  const name = names.find((candidate) => payload[candidate] !== undefined && payload[candidate] !== null) ?? names[0];
  const value = payload[name];
  if (value === undefined || value === null) {
    problems.push(`${names[0]} is missing`);
    return null;
  }
  if (typeof value !== 'string' || !value.trim()) {
    problems.push(`${name} must be non-empty text`);
    return null;
  }
  if (value.length > maxLength) {
    problems.push(`${name} is longer than ${maxLength} characters`);
    return null;
  }
  return value.trim();
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (isLosslessNumber(value)) return 'a number';
  return `a ${typeof value === 'string' ? 'text' : typeof value}`;
}

/** The first bytes of a body as text PostgreSQL can store (no NUL; invalid UTF-8 shown as U+FFFD). */
function excerpt(bytes: Buffer): string {
  const cut = bytes.subarray(0, UNUSABLE_EXCERPT_BYTES);
  return new TextDecoder('utf-8').decode(cut).replace(/\u0000/g, '\uFFFD');
}

/**
 * The first text (key or value, at any depth) PostgreSQL's jsonb cannot store, named by its path:
 * a NUL character or a lone surrogate; or nesting too deep to store.
 */
function findUnstorableText(payload: Record<string, unknown>): string | undefined {
  const flaw = (text: string): string | undefined =>
    text.includes('\u0000') ? 'a NUL character (\\u0000)' : LONE_SURROGATE.test(text) ? 'an unpaired UTF-16 surrogate' : undefined;
  // Depth first, in document order, without recursion.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: payload, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (typeof value === 'string') {
      const found = flaw(value);
      if (found) return `${path} contains ${found}, which cannot be stored`;
      continue;
    }
    if (typeof value !== 'object' || value === null || isLosslessNumber(value)) continue;
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
