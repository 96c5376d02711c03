import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSchemaOf, openApiPath, OPENAPI_PATH } from '../../src/server/openapi.js';
import { ORG_ROUTES } from '../../src/server/routes/org.js';
import { startTestServer, type TestServer } from './harness.js';

interface Response {
  description: string;
  content?: Record<string, { schema: Record<string, unknown> }>;
}
interface Operation {
  summary?: string;
  parameters?: Array<{ name: string; in: string; schema: unknown }>;
  requestBody?: { content: { 'application/json': { schema: unknown } } };
  responses: Record<string, Response>;
}
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

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
    expect(withBody).toBe(14);
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

describe('OpenAPI responses', () => {
  const ERROR_REF = { $ref: '#/components/schemas/Error' };

  it('every route documents its success answer (a schema for every 200/201) and the error shape for 4xx and 5xx', () => {
    let described = 0;
    for (const [path, methods] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(methods)) {
        const where = `${method.toUpperCase()} ${path}`;
        const success = Object.keys(op.responses).filter((k) => /^[23]\d\d$/.test(k));
        expect(success, where).toHaveLength(1);
        const answer = op.responses[success[0]!]!;
        if (success[0] === '200' || success[0] === '201') {
          const types = Object.keys(answer.content ?? {});
          expect(types.length, `${where} has no response schema`).toBeGreaterThan(0);
          for (const type of types)
            expect(answer.content![type]!.schema, `${where} ${type}`).toBeTruthy();
          described++;
        } else expect(answer.content, `${where}: ${success[0]} has no body`).toBeUndefined();
        for (const status of ['4XX', 'default'])
          expect(
            op.responses[status]?.content?.['application/json']?.schema,
            `${where} ${status}`,
          ).toEqual(ERROR_REF);
      }
    expect(described).toBeGreaterThanOrEqual(40);
    // The export answers a file, in either of its formats.
    const exported = doc.paths['/api/v1/organizations/{orgId}/audit/export']!.get!;
    expect(Object.keys(exported.responses['200']!.content!).sort()).toEqual([
      'application/x-ndjson',
      'text/csv',
    ]);
  });

  /**
   * OpenAPI 3.0's schema dialect → JSON Schema draft 7 for Ajv: a boolean exclusiveMinimum
   * /Maximum goes with minimum/maximum; $refs point into the document added as 'doc'.
   * (Ajv knows OpenAPI's `nullable` itself.)
   */
  function draft7(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(draft7);
    if (node === null || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node as Record<string, unknown>)) out[k] = draft7(v);
    for (const [flag, bound] of [
      ['exclusiveMinimum', 'minimum'],
      ['exclusiveMaximum', 'maximum'],
    ] as const)
      if (typeof out[flag] === 'boolean') {
        if (out[flag] === true) out[flag] = out[bound];
        else delete out[flag];
        if (out[flag] !== undefined) delete out[bound];
      }
    if (typeof out['$ref'] === 'string') out['$ref'] = `doc${out['$ref']}`;
    return out;
  }

  /** Checks real answers against the document itself (its JSON Schemas, its $refs). */
  function validator() {
    const ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat(
      'date-time',
      (v: string) => /^\d{4}-\d\d-\d\dT/.test(v) && !Number.isNaN(Date.parse(v)),
    );
    ajv.addFormat('email', /^[^@\s]+@[^@\s]+$/);
    ajv.addSchema({ components: doc.components }, 'doc');
    return (method: string, url: string, status: number, body: unknown) => {
      const op = doc.paths[openApiPath(url)]![method.toLowerCase()]!;
      const key = status < 400 ? String(status) : '4XX';
      const schema = draft7(op.responses[key]!.content!['application/json']!.schema);
      const validate = ajv.compile(schema as Record<string, unknown>);
      const ok = validate(body);
      return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
    };
  }

  it('real answers match their documented schemas (and the documented schema is strict enough to notice a wrong one)', async () => {
    const check = validator();
    const owner = await server.login('owner@openapi.test');
    const viewer = await server.login('viewer@openapi.test');
    const call = async (
      who: typeof owner,
      method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
      route: string,
      url: string,
      body?: unknown,
    ) => {
      const res = await server.call(who, method, url, body);
      expect(check(method, route, res.statusCode, res.json()), `${method} ${url}`).toEqual([]);
      return res;
    };
    const org = (
      await call(owner, 'POST', '/api/v1/organizations', '/api/v1/organizations', {
        name: 'Docs',
      })
    ).json<{ id: string }>().id;
    await server.addMember(org, viewer.userId, 'viewer');
    const base = `/api/v1/organizations/${org}`;
    const O = '/api/v1/organizations/:orgId';
    for (const path of ['/healthz', '/readyz', '/api/v1/auth/mfa'])
      await call(owner, 'GET', path, path);
    const login = await server.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { credential: 'test:someone@openapi.test' },
    });
    expect(check('POST', '/api/v1/auth/login', 200, login.json())).toEqual([]);
    await call(owner, 'GET', '/api/v1/me', '/api/v1/me');
    await call(owner, 'GET', '/api/v1/me/sessions', '/api/v1/me/sessions');
    await call(owner, 'GET', O, base);
    await call(owner, 'POST', `${O}/projects`, `${base}/projects`, {
      name: 'Main',
      firebaseProjectId: 'docs-main',
    });
    await call(owner, 'GET', `${O}/projects`, `${base}/projects`);
    await call(owner, 'GET', `${O}/members`, `${base}/members`);
    await call(owner, 'POST', `${O}/api-keys`, `${base}/api-keys`, {
      name: 'ci',
      scopes: ['backups:read'],
    });
    await call(owner, 'GET', `${O}/api-keys`, `${base}/api-keys`);
    const destination = (
      await call(owner, 'POST', `${O}/destinations`, `${base}/destinations`, {
        name: 'Shared',
        url: 's3://docs-bucket/backups',
        options: { region: 'eu-west-1' },
      })
    ).json<{ id: string }>().id;
    const project = (await server.call(owner, 'GET', `${base}/projects`)).json<{
      projects: { id: string }[];
    }>().projects[0]!.id;
    await call(owner, 'POST', `${O}/schedules`, `${base}/schedules`, {
      name: 'nightly',
      projectId: project,
      destinationId: destination,
      cron: '0 3 * * *',
    });
    await call(owner, 'GET', `${O}/schedules`, `${base}/schedules`);
    await call(owner, 'POST', `${O}/runs`, `${base}/runs`, { projectId: project });
    await call(owner, 'GET', `${O}/runs`, `${base}/runs`);
    await call(owner, 'PATCH', `${O}/billing`, `${base}/billing`, { plan: 'team' });
    await call(owner, 'GET', `${O}/audit`, `${base}/audit`);
    await call(owner, 'GET', `${O}/audit/verify`, `${base}/audit/verify`);
    // Errors: the one error shape.
    await call(viewer, 'PATCH', `${O}/billing`, `${base}/billing`, { plan: 'free' });
    await call(owner, 'GET', `${O}/projects/:projectId`, `${base}/projects/prj_missing`);
    await call(owner, 'POST', `${O}/projects`, `${base}/projects`, { name: '' });
    // The control: a wrong answer is caught (a missing field, a wrong type).
    expect(check('GET', `${O}/billing`, 200, { plan: 'team', billingEmail: null })).not.toEqual([]);
    expect(check('GET', `${O}/audit/verify`, 200, { ok: 'yes', entries: 1 })).not.toEqual([]);
    expect(check('GET', O, 404, { message: 'no' })).not.toEqual([]);
  });
});
