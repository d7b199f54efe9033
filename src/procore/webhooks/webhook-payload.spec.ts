import { parseWebhookBody, UNUSABLE_EXCERPT_BYTES, WebhookBody } from './webhook-payload';

/** Procore's published v2 example (plan_your_app/webhooks.md), with a budget resource. */
const EXAMPLE = `{
  "id": 123456789,
  "ulid": "0A1B2C3D4F5G6H7I8J9K0LMN",
  "timestamp": "2025-02-06T23:34:12.246562Z",
  "metadata": {"source_user_id": 987654321, "source_project_id": 2468013579, "source_operation_id": null, "source_company_id": 1357908642, "source_application_id": null},
  "user_id": 987654321,
  "company_id": 1357908642,
  "project_id": 2468013579,
  "api_version": "v2.0",
  "event_type": "update",
  "resource_name": "Budget Line Items",
  "resource_id": 54321
}`;

const body = (text: string): WebhookBody => ({ bytes: Buffer.from(text, 'utf8'), totalBytes: Buffer.byteLength(text) });
const json = (value: Record<string, unknown>) => body(JSON.stringify(value));
const base = JSON.parse(EXAMPLE) as Record<string, unknown>;

describe('parseWebhookBody', () => {
  it("reads Procore's published example: ids as text, the ulid (24 characters) kept exactly, the body kept as it came", () => {
    expect(parseWebhookBody(body(EXAMPLE))).toEqual({
      status: 'received',
      reason: null,
      dedupeKey: 'ulid:0A1B2C3D4F5G6H7I8J9K0LMN',
      ulid: '0A1B2C3D4F5G6H7I8J9K0LMN',
      procoreEventId: '123456789',
      resourceName: 'Budget Line Items',
      eventType: 'update',
      resourceId: '54321',
      projectId: '2468013579',
      companyId: '1357908642',
      userId: '987654321',
      payloadJson: EXAMPLE,
      rawBody: null,
    });
  });

  it('keeps every digit of an id beyond 2^53, and dedupes by it without a ulid', () => {
    const text = EXAMPLE.replace('"id": 123456789', '"id": 5982324300946918154').replace(/"ulid": "[^"]+",/, '');
    expect(Number('5982324300946918154').toString()).not.toBe('5982324300946918154'); // a double would lose it
    expect(parseWebhookBody(body(text))).toMatchObject({ status: 'received', procoreEventId: '5982324300946918154', dedupeKey: 'id:5982324300946918154', ulid: null });
  });

  it('reads payload v4 too: every id as text, resource_type and reason', () => {
    const v4 = { id: '01JMYXMZRBVKK0PC6XS8SA4QRE', timestamp: '2025-02-25T16:04:43.619085Z', reason: 'update', company_id: '8', project_id: '6778', user_id: '5447', resource_type: 'Budget Changes', resource_id: '379913' };
    expect(parseWebhookBody(json(v4))).toMatchObject({
      status: 'received',
      dedupeKey: 'id:01JMYXMZRBVKK0PC6XS8SA4QRE',
      resourceName: 'Budget Changes',
      eventType: 'update',
      projectId: '6778',
      userId: '5447',
    });
  });

  it('a ulid is opaque: any 1–64 characters, case kept', () => {
    expect(parseWebhookBody(json({ ...base, ulid: 'x' }))).toMatchObject({ status: 'received', dedupeKey: 'ulid:x' });
    expect(parseWebhookBody(json({ ...base, ulid: 'abc-DEF_123' }))).toMatchObject({ dedupeKey: 'ulid:abc-DEF_123' });
    expect(parseWebhookBody(json({ ...base, ulid: 'u'.repeat(65) }))).toMatchObject({ status: 'unusable', reason: 'ulid must be text of 1 to 64 characters', dedupeKey: 'id:123456789' });
  });

  it.each([
    ['an unknown resource', { ...base, resource_name: 'RFIs' }, '"RFIs" events are not ones the connector subscribes to'],
    ['no resource name', { ...base, resource_name: undefined }, 'resource_name is missing'],
    ['no event type', { ...base, event_type: 7 }, 'event_type must be non-empty text'],
    ['a budget event without a project', { ...base, project_id: null }, 'a "Budget Line Items" event needs project_id'],
    ['a Projects event without its id', { ...base, resource_name: 'Projects', resource_id: null, project_id: null }, 'a "Projects" event needs resource_id (the project)'],
    ['a fractional id', { ...base, user_id: 4.5 }, 'user_id must be a positive whole number (at most 9223372036854775807)'],
    ['a project id beyond bigint', { ...base, project_id: '99999999999999999999' }, 'project_id must be a positive whole number (at most 9223372036854775807)'],
    ['metadata not an object', { ...base, metadata: [] }, 'metadata must be an object'],
    ['no id and no ulid', { ...base, id: null, ulid: undefined }, 'it has neither a ulid nor an id, so a redelivery could not be recognised'],
  ])('%s → unusable, the reason named, the JSON and the dedupe key kept when there', (_label, payload, reason) => {
    const record = parseWebhookBody(json(payload));
    expect(record).toMatchObject({ status: 'unusable', reason });
    expect(record.payloadJson).toBe(JSON.stringify(payload));
    expect(record.rawBody).toBeNull();
  });

  it.each([
    ['not JSON', '{"id": 1,', /^the body is not valid JSON: /],
    ['a list', '[{"id": 1}]', /^the body must be a JSON object \(a Procore webhook event\), not a list$/],
    ['a number', '5982324300946918154', /not a number$/],
    ['a text', '"hello"', /not a text$/],
    ['null', 'null', /not null$/],
    ['empty', '  ', /^the body is empty$/],
    ['nested too deeply for the parser', '['.repeat(200_000) + ']'.repeat(200_000), /^the body is not valid JSON: it is nested too deeply$/],
  ])('a body that is %s → unusable, its text kept', (_label, text, reason) => {
    const record = parseWebhookBody(body(text));
    expect(record).toMatchObject({ status: 'unusable', payloadJson: null, dedupeKey: null });
    expect(record.reason).toMatch(reason);
    expect(record.rawBody).toBe(text.slice(0, UNUSABLE_EXCERPT_BYTES));
  });

  it('text PostgreSQL cannot store (NUL, a lone surrogate, deep nesting) → unusable, kept as raw text (escapes intact)', () => {
    const nul = `{"ulid":"A1","resource_name":"Budget Line Items","event_type":"update","project_id":1,"metadata":{"note":"a\\u0000b"}}`;
    expect(parseWebhookBody(body(nul))).toMatchObject({
      status: 'unusable',
      reason: 'metadata.note contains a NUL character (\\u0000), which cannot be stored',
      dedupeKey: 'ulid:A1',
      payloadJson: null,
      rawBody: nul,
    });
    expect(parseWebhookBody(body(nul.replace('a\\u0000b', 'x\\ud800'))).reason).toBe('metadata.note contains an unpaired UTF-16 surrogate, which cannot be stored');
    let deep = '"x"';
    for (let i = 0; i < 100; i++) deep = `[${deep}]`;
    expect(parseWebhookBody(body(nul.replace('"a\\u0000b"', deep))).reason).toMatch(/^metadata\.note(\[0\])+ is nested deeper than 64 levels$/);
    // Emoji (paired surrogates) are fine.
    expect(parseWebhookBody(body(nul.replace('a\\u0000b', 'ok \\ud83d\\ude00'))).status).toBe('received');
  });

  it('an incomplete or non-UTF-8 body → unusable, the first 100 kB kept, a NUL byte made storable', () => {
    const big = Buffer.alloc(UNUSABLE_EXCERPT_BYTES + 500, 'a');
    expect(parseWebhookBody({ bytes: big, totalBytes: 5_000_000, incomplete: 'the body is larger than the 1024 kB limit' })).toMatchObject({
      status: 'unusable',
      reason: 'the body is larger than the 1024 kB limit',
      rawBody: 'a'.repeat(UNUSABLE_EXCERPT_BYTES),
    });
    const latin1 = Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x00, 0x7d]);
    expect(parseWebhookBody({ bytes: latin1, totalBytes: 6 })).toMatchObject({ status: 'unusable', reason: 'the body is not UTF-8 text', rawBody: '{"\uFFFD"\uFFFD}' });
  });
});
