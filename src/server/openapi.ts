import type { FastifyInstance, RouteOptions } from 'fastify';
import type { z } from 'zod';
import { zodToJsonSchema } from 'zod-to-json-schema';
import { RESPONSES, type ResponseDoc } from './responses.js';

/**
 * The OpenAPI document of /api/v1, generated from the same zod schemas the routes parse
 * their bodies and queries with: every route carries a `doc` in its Fastify config, and
 * the document is built from the routes actually registered (an onRoute hook), so a route
 * cannot exist without appearing in it. Answers are described from zod schemas too: the
 * successful one from responses.ts, every error by the one error shape (ERROR_SCHEMA).
 */

/** Who may call a route: nobody needs to sign in, a signed-in user, or a user or API key. */
export type RouteAuth = 'none' | 'user' | 'userOrKey';

export interface RouteDoc {
  summary: string;
  auth: RouteAuth;
  /** The status of a successful answer (302: a redirect, in the browser sign-in). */
  success: 200 | 201 | 204 | 302;
  body?: z.ZodTypeAny;
  query?: z.AnyZodObject;
  /** The route honours Idempotency-Key (the organisation's write routes). */
  idempotent?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    doc?: RouteDoc;
  }
}

const DESCRIPTIONS: Record<RouteDoc['success'], string> = {
  200: 'OK',
  201: 'OK',
  204: 'Done, no content.',
  302: 'Redirect (Location).',
};

export const OPENAPI_PATH = '/api/v1/openapi.json';

interface Collected {
  method: string;
  url: string;
  doc?: RouteDoc;
}

/** Fastify `/a/:id` → OpenAPI `/a/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function schemaOf(schema: z.ZodTypeAny): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = zodToJsonSchema(schema, {
    target: 'openApi3',
    $refStrategy: 'none',
  }) as Record<string, unknown>;
  return rest;
}

/** JSON Schema of a request body or query, as it appears in the document. */
export const jsonSchemaOf = schemaOf;

const ERROR_SCHEMA = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'An error code of the shared taxonomy.' },
        message: { type: 'string' },
        fault: { type: 'string' },
        retryable: { type: 'boolean' },
      },
    },
  },
};

/** The success answer's content: JSON by its schema, or a file in its media types. */
function successContent(response: ResponseDoc | undefined): Record<string, unknown> {
  if (response === undefined) return {};
  const content =
    'file' in response
      ? Object.fromEntries(response.file.map((type) => [type, { schema: { type: 'string' } }]))
      : { 'application/json': { schema: schemaOf(response) } };
  return { content };
}

function operation(route: Collected): Record<string, unknown> {
  const doc = route.doc;
  const parameters: unknown[] = [...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({
    name: m[1],
    in: 'path',
    required: true,
    schema: { type: 'string' },
  }));
  if (doc?.query !== undefined) {
    const query = schemaOf(doc.query) as {
      properties?: Record<string, unknown>;
      required?: string[];
    };
    for (const [name, schema] of Object.entries(query.properties ?? {}))
      parameters.push({
        name,
        in: 'query',
        required: query.required?.includes(name) ?? false,
        schema,
      });
  }
  if (doc?.auth === 'userOrKey')
    parameters.push({
      name: 'X-Organization-Id',
      in: 'header',
      required: false,
      description: 'Required with an API key: the organisation the key belongs to.',
      schema: { type: 'string' },
    });
  if (doc?.idempotent === true)
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'A key made once per action (a UUID): sending the request again with it answers as the first time and takes effect once (kept 7 days).',
      schema: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{8,200}$' },
    });
  const success = doc?.success ?? 200;
  const error = {
    content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
  };
  return {
    ...(doc !== undefined ? { summary: doc.summary } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc?.body !== undefined
      ? {
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaOf(doc.body) } },
          },
        }
      : {}),
    ...(doc === undefined || doc.auth === 'none'
      ? { security: [] }
      : { security: doc.auth === 'user' ? [{ bearer: [] }] : [{ bearer: [] }, { apiKey: [] }] }),
    responses: {
      [String(success)]: {
        description: DESCRIPTIONS[success],
        ...successContent(RESPONSES[`${route.method} ${route.url}`]),
      },
      '4XX': {
        description:
          'Refused: 400 invalid, 401 not signed in, 403 not allowed, 404 not found (or another organisation), 409 conflict, 429 too many requests (Retry-After).',
        ...error,
      },
      default: { description: 'The server failed (5xx).', ...error },
    },
  };
}

export function buildOpenApi(routes: readonly Collected[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = openApiPath(route.url);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(route);
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'FireBackup organisation server',
      version: '1',
      description: 'Members, roles, API keys, the shared catalog and the audit log.',
    },
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT).' },
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (fbk_…) with X-Organization-Id naming its organisation.',
        },
      },
    },
  };
}

/**
 * Collects every route registered after this call (HEAD twins of GET routes left out) and
 * serves the document at /api/v1/openapi.json.
 */
export function installOpenApi(app: FastifyInstance): void {
  const routes: Collected[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods)
      if (method !== 'HEAD')
        routes.push({
          method,
          url: route.url,
          ...(route.config?.doc !== undefined ? { doc: route.config.doc } : {}),
        });
  });
  let document: Record<string, unknown> | undefined;
  app.get(
    OPENAPI_PATH,
    { config: { doc: { summary: 'This document.', auth: 'none', success: 200 } } },
    async () => (document ??= buildOpenApi(routes)),
  );
}
