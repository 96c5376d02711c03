import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSchemaOf, openApiPath, OPENAPI_PATH } from '../../src/server/openapi.js';
import { ORG_ROUTES } from '../../src/server/routes/org.js';
import { startTestServer, type TestServer } from './harness.js';

interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string; schema: unknown }>;
  requestBody?: { content: { 'application/json': { schema: unknown } } };
  responses: Record<string, unknown>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

/**
 * Every route Fastify actually serves, read from its own route tree (printRoutes), so the
 * list does not come from the code that builds the document.
 */
function servedRoutes(tree: string): Array<{ method: string; url: string }> {
  const out: Array<{ method: string; url: string }> = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    for (const method of match[3]?.split(', ') ?? [])
      if (method !== 'HEAD') out.push({ method, url: stack.join('') });
  }
  return out;
}

let server: TestServer;
let doc: Document;
beforeAll(async () => {
  server = await startTestServer();
  const res = await server.app.inject({ method: 'GET', url: OPENAPI_PATH });
  expect(res.statusCode).toBe(200);
  doc = res.json<Document>();
});
afterAll(() => server.close());

describe('OpenAPI document at /api/v1/openapi.json', () => {
  it('is OpenAPI 3 and served without signing in', () => {
    expect(doc.openapi).toBe('3.0.3');
  });

  it('lists every registered route, each with a summary and its answers', () => {
    const routes = servedRoutes(server.app.printRoutes({ commonPrefix: false }));
    // The tree parser itself must have found the routes (guards against a format change).
    expect(routes.length).toBeGreaterThanOrEqual(ORG_ROUTES.length + 10);
    for (const { method, url } of routes) {
      const op = doc.paths[openApiPath(url)]?.[method.toLowerCase()];
      expect(op, `${method} ${url} missing from the document`).toBeDefined();
      expect(op!.summary, `${method} ${url} has no summary`).toBeTruthy();
      expect(Object.keys(op!.responses)).toContain('default');
    }
    const documented = Object.values(doc.paths).reduce((n, p) => n + Object.keys(p).length, 0);
    expect(documented).toBe(routes.length);
  });

  it("carries each route's request schemas, generated from the zod schemas the route parses", () => {
    let withBody = 0;
    for (const route of ORG_ROUTES) {
      const op =
        doc.paths[openApiPath(`/api/v1/organizations/:orgId${route.path}`)]![
          route.method.toLowerCase()
        ]!;
      expect(op.parameters?.find((p) => p.in === 'path' && p.name === 'orgId')).toBeDefined();
      if (route.body !== undefined) {
        withBody++;
        expect(op.requestBody!.content['application/json'].schema).toEqual(
          jsonSchemaOf(route.body),
        );
      } else expect(op.requestBody).toBeUndefined();
      if (route.query !== undefined) {
        const props = (jsonSchemaOf(route.query) as { properties: Record<string, unknown> })
          .properties;
        const query = op.parameters!.filter((p) => p.in === 'query');
        expect(query.map((p) => p.name).sort()).toEqual(Object.keys(props).sort());
        for (const p of query) expect(p.schema).toEqual(props[p.name]);
      }
    }
    expect(withBody).toBe(13);
    // A concrete look at one: the API key's scopes are the guide's list.
    const keyBody = doc.paths['/api/v1/organizations/{orgId}/api-keys']!.post!.requestBody!.content[
      'application/json'
    ].schema as {
      properties: { scopes: { items: { enum: string[] } } };
      required: string[];
    };
    expect(keyBody.properties.scopes.items.enum).toContain('backups:write');
    expect(keyBody.required).toEqual(expect.arrayContaining(['name', 'scopes']));
    expect(doc.paths['/api/v1/auth/login']!.post!.requestBody).toBeDefined();
    for (const path of ['/api/v1/invitations/accept', '/api/v1/auth/mfa/verify'])
      expect(doc.paths[path]!.post!.requestBody, path).toBeDefined();
  });
});
