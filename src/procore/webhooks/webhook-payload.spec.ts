import { parseWebhookPayload } from './webhook-payload';

const valid = {
  id: 123,
  ulid: '01JDQ8ZK3T6Y2M0R5V9W7X1B4C',
  timestamp: '2026-11-25T10:00:00Z',
  user_id: 42,
  company_id: 8,
  project_id: 1001,
  api_version: 'v2',
  event_type: 'update',
  resource_name: 'Budget View Snapshots',
  resource_id: 555,
  metadata: {},
};

describe('parseWebhookPayload', () => {
  it('accepts a v2 payload, keeps extra fields and dedupes by ulid', () => {
    const result = parseWebhookPayload({ ...valid, extra: { kept: true } });
    expect(result).toEqual({
      delivery: {
        dedupeKey: 'ulid:01JDQ8ZK3T6Y2M0R5V9W7X1B4C',
        ulid: '01JDQ8ZK3T6Y2M0R5V9W7X1B4C',
        procoreEventId: 123,
        resourceName: 'Budget View Snapshots',
        eventType: 'update',
        resourceId: 555,
        projectId: 1001,
        companyId: 8,
        userId: 42,
        payload: { ...valid, extra: { kept: true } },
      },
    });
  });

  it('dedupes by id without a ulid; company-level events have no project or user', () => {
    const result = parseWebhookPayload({ ...valid, ulid: undefined, project_id: null, user_id: null });
    expect(result).toMatchObject({ delivery: { dedupeKey: 'id:123', ulid: null, projectId: null, userId: null } });
  });

  it.each([
    ['not an object', [], ['the body must be a JSON object (a Procore v2 webhook payload)']],
    ['null', null, ['the body must be a JSON object (a Procore v2 webhook payload)']],
    ['text ids', { ...valid, id: '123', project_id: '1001' }, ['id must be a positive whole number', 'project_id must be a positive whole number']],
    ['fractional id', { ...valid, user_id: 4.5 }, ['user_id must be a positive whole number']],
    ['ulid not text', { ...valid, ulid: 12345678901 }, ['ulid must be text of 10 to 64 letters and digits']],
    ['missing names', { ...valid, resource_name: undefined, event_type: 7 }, ['resource_name must be non-empty text', 'event_type must be non-empty text']],
    ['no id, no ulid', { ...valid, id: undefined, ulid: undefined }, ['the payload needs an id or a ulid to be deduplicated']],
    ['ulid null, no id', { ...valid, id: undefined, ulid: null }, ['the payload needs an id or a ulid to be deduplicated']],
    ['ulid null, id null', { ...valid, id: null, ulid: null }, ['the payload needs an id or a ulid to be deduplicated']],
    ['a NUL in metadata', { ...valid, metadata: { note: 'a\u0000b' } }, ['metadata.note contains a NUL character (\\u0000), which cannot be stored']],
    ['a NUL in resource_name', { ...valid, resource_name: 'Budget\u0000' }, ['resource_name contains a NUL character (\\u0000), which cannot be stored']],
    ['a NUL in a list', { ...valid, extra: [{ ok: 'x' }, { tags: ['fine', '\u0000'] }] }, ['extra[1].tags[1] contains a NUL character (\\u0000), which cannot be stored']],
    ['a NUL in a field name', { ...valid, metadata: { 'n\u0000te': 1 } }, ['a field name in metadata contains a NUL character (\\u0000), which cannot be stored']],
    ['a lone surrogate', { ...valid, metadata: { note: 'x\ud800' } }, ['metadata.note contains an unpaired UTF-16 surrogate, which cannot be stored']],
    ['metadata a list', { ...valid, metadata: [] }, ['metadata must be an object']],
  ])('%s → the problems are named', (_label, body, problems) => {
    expect(parseWebhookPayload(body)).toEqual({ problems });
  });

  it('keeps paired surrogates (emoji) and refuses nesting PostgreSQL could not store', () => {
    expect(parseWebhookPayload({ ...valid, metadata: { note: 'ok \u{1F600}' } })).toHaveProperty('delivery');
    let deep: unknown = 'x';
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(parseWebhookPayload({ ...valid, metadata: { deep } })).toEqual({ problems: [expect.stringMatching(/^metadata\.deep(\[0\])+ is nested deeper than 64 levels$/)] });
  });
});
