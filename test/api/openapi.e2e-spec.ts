import { writeFileSync } from 'node:fs';
import { resetDatabase } from '../support/database';
import { createSubmission, createUser } from '../support/factories';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The OpenAPI document (/api/docs/openapi.json) describes every route an integrator calls: each
 * operation has a 2xx response with a schema (a 204 has no body to describe), at least one error
 * response in the API's error shape, and an example. The console's pages are left out on purpose
 * (@ApiExcludeController): they are HTML for browsers, not an API. And the schemas describe the
 * answers the API really gives: the same fields, no more, no fewer.
 */
type Json = Record<string, unknown>;
interface Operation {
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Json; example?: unknown; examples?: Json }> }>;
  requestBody?: { content?: Record<string, { schema?: Json; example?: unknown; examples?: Json }> };
}

const METHODS = ['get', 'put', 'post', 'patch', 'delete'];
/** Liveness answers 200 whenever the process can answer at all (even while it shuts down): no error to describe. */
const NO_ERROR_RESPONSE = ['GET /health/live'];

describe('OpenAPI document', () => {
  let t: TestApp;
  let document: { paths: Record<string, Record<string, Operation>>; components?: { schemas?: Record<string, Json> } };

  beforeAll(async () => {
    // This worker's database holds what the previous suite left (its open submissions among them).
    await resetDatabase();
    t = await startTestApp();
    const response = await fetch(`${t.url}/api/docs/openapi.json`);
    expect(response.status).toBe(200);
    document = (await response.json()) as typeof document;
    if (process.env.OPENAPI_DUMP) writeFileSync(process.env.OPENAPI_DUMP, JSON.stringify(document, null, 2));
  });
  afterAll(() => t.close());

  const resolve = (schema: Json | undefined): Json | undefined => {
    if (!schema) return undefined;
    const ref = schema.$ref as string | undefined;
    return ref ? document.components?.schemas?.[ref.replace('#/components/schemas/', '')] : schema;
  };

  /** An example anywhere in a described body: on the content, the schema, its items, or its properties. */
  const hasExample = (content: { schema?: Json; example?: unknown; examples?: Json } | undefined, seen = new Set<Json>()): boolean => {
    if (!content) return false;
    if (content.example !== undefined || content.examples !== undefined) return true;
    const schema = resolve(content.schema);
    if (!schema || seen.has(schema)) return false;
    seen.add(schema);
    if (schema.example !== undefined) return true;
    if (schema.items && hasExample({ schema: schema.items as Json }, seen)) return true;
    for (const part of [...((schema.allOf as Json[]) ?? []), ...((schema.oneOf as Json[]) ?? [])]) if (hasExample({ schema: part }, seen)) return true;
    return Object.values((schema.properties as Record<string, Json>) ?? {}).some((property) => property.example !== undefined || hasExample({ schema: property }, seen));
  };

  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );

  /** Where `value` and `schema` differ: fields the schema lacks or requires in vain, at each path. */
  const differences = (value: unknown, schema: Json | undefined, path: string): string[] => {
    const resolved = resolve(schema);
    if (!resolved || value === null || value === undefined) return [];
    if (Array.isArray(value)) return value.length && resolved.items ? differences(value[0], resolved.items as Json, `${path}[0]`) : [];
    const properties = resolved.properties as Record<string, Json> | undefined;
    if (typeof value !== 'object' || !properties) return [];
    const keys = Object.keys(value as Json);
    const required = (resolved.required as string[]) ?? [];
    return [
      ...keys.filter((key) => !(key in properties)).map((key) => `${path}.${key}: not in the schema`),
      ...required.filter((key) => !keys.includes(key)).map((key) => `${path}.${key}: required but absent`),
      ...keys.filter((key) => key in properties).flatMap((key) => differences((value as Json)[key], properties[key], `${path}.${key}`)),
    ];
  };

  it('describes the answers the API really gives', async () => {
    const admin = await createUser(t.em(), { erpPermission: 'admin', canPushToAccounting: true });
    const submission = await createSubmission(t.em(), { sentBy: admin.user, createdBy: admin.user });
    const calls: Array<[string, string]> = [
      ['/api/v1/budgets', '/api/v1/budgets'],
      [`/api/v1/budgets/${submission.id}`, '/api/v1/budgets/{id}'],
      [`/api/v1/budgets/${submission.id}/lines`, '/api/v1/budgets/{id}/lines'],
      [`/api/v1/budgets/${submission.id}/rows`, '/api/v1/budgets/{id}/rows'],
      ['/api/v1/users', '/api/v1/users'],
      ['/api/v1/users/me', '/api/v1/users/me'],
      [`/api/v1/users/${admin.user.id}/tokens`, '/api/v1/users/{id}/tokens'],
      ['/api/v1/audit-events', '/api/v1/audit-events'],
      ['/health', '/health'],
    ];
    const found: string[] = [];
    for (const [url, path] of calls) {
      const response = await fetch(`${t.url}${url}`, { headers: { Authorization: `Bearer ${admin.token}` } });
      expect(`${url} ${response.status}`).toBe(`${url} 200`);
      const schema = document.paths[path].get.responses?.['200']?.content?.['application/json']?.schema;
      found.push(...differences(await response.json(), schema, `GET ${path}`));
    }
    expect(found).toEqual([]);
  });

  it('leaves out the console and keeps the API', () => {
    const paths = Object.keys(document.paths);
    expect(paths.filter((path) => path.startsWith('/console') || path === '/')).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['/api/v1/budgets', '/api/v1/budgets/{id}', '/api/v1/users', '/webhooks/procore']));
  });

  it('gives every operation a 2xx response with a schema', () => {
    const lacking = operations()
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
        return !success.some(([status, response]) => status === '204' || Object.values(response.content ?? {}).some((content) => content.schema));
      })
      .map(({ name }) => name);
    expect(lacking).toEqual([]);
  });

  it('gives every operation its error responses, each 4xx in the error shape {statusCode, error, message}', () => {
    const lacking = operations()
      .filter(({ name }) => !NO_ERROR_RESPONSE.includes(name))
      .filter(({ operation }) => {
        const errors = Object.entries(operation.responses ?? {}).filter(([status]) => /^[45]\d\d$/.test(status));
        // Every 4xx is in the error shape; a 5xx too, except health's 503, which is the health report.
        return (
          errors.length === 0 ||
          errors.some(([status, response]) => {
            const schema = resolve(response.content?.['application/json']?.schema);
            if (status.startsWith('5') && schema) return false;
            const required = (schema?.required as string[]) ?? [];
            return !['statusCode', 'error', 'message'].every((field) => required.includes(field));
          })
        );
      })
      .map(({ name }) => name);
    expect(lacking).toEqual([]);
  });

  it('gives every request body an example', () => {
    const lacking = operations()
      .filter(({ operation }) => operation.requestBody && !Object.values(operation.requestBody.content ?? {}).some((content) => hasExample(content)))
      .map(({ name }) => name);
    expect(lacking).toEqual([]);
  });

  it('gives every operation an example (of its answer, or of its body when it answers nothing)', () => {
    const lacking = operations()
      .filter(({ operation }) => {
        const success = Object.entries(operation.responses ?? {}).filter(([status]) => /^2\d\d$/.test(status));
        const answered = success.some(([, response]) => Object.values(response.content ?? {}).some((content) => hasExample(content)));
        // An answer without a body (204) has nothing to show; its request body, if any, is the example.
        const noBody = success.length > 0 && success.every(([status]) => status === '204');
        const bodyShown = !operation.requestBody || Object.values(operation.requestBody.content ?? {}).some((content) => hasExample(content));
        return !answered && !(noBody && bodyShown);
      })
      .map(({ name }) => name);
    expect(lacking).toEqual([]);
  });
});
