import type { FastifySchema } from 'fastify';
import { jsonSchemaOf } from './openapi.js';
import { RESPONSES } from './responses.js';

/**
 * The answer schema a route's compiled serialiser is built from (Fastify compiles a
 * response schema with fast-json-stringify, ADR 0021): the route's documented schema in
 * responses.ts, so what is served and what is documented are one schema.
 *
 * Such a serialiser writes only what its schema names: a property the schema forgot
 * would vanish from answers without a sound. So every object is opened here
 * (`additionalProperties: true`): a property the schema forgot still goes out, written
 * by JSON.stringify, only slower. test/server/answer-serialiser.test.ts fails when a
 * handler returns a key its schema does not name, or when the compiled answer differs
 * from JSON.stringify's (a type the schema states wrongly, which the serialiser coerces).
 */
export function answerSchema(route: string, status: number): FastifySchema {
  const doc = RESPONSES[route];
  if (doc === undefined || 'file' in doc)
    throw new Error(`${route}: a compiled answer needs a JSON schema in responses.ts`);
  return { response: { [status]: open(jsonSchemaOf(doc)) } };
}

/**
 * A copy of `schema` whose objects with named properties also write any other key and
 * require none, in the JSON Schema dialect fast-json-stringify's Ajv reads: OpenAPI 3.0's
 * boolean `exclusiveMinimum`/`Maximum` become the bound itself (they only choose a
 * union's branch).
 */
function open(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(open);
  if (schema === null || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>))
    // `properties` maps names to schemas: open each schema, keep the names.
    out[key] =
      key === 'properties'
        ? Object.fromEntries(
            Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, open(v)]),
          )
        : open(value);
  if (out['additionalProperties'] === false) out['additionalProperties'] = true;
  // A missing property is left out, as JSON.stringify leaves it, rather than failing the
  // whole answer (an old row without a field added since must not make a list unreadable).
  delete out['required'];
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const)
    if (typeof out[flag] === 'boolean') {
      if (out[flag] === true) {
        out[flag] = out[bound];
        delete out[bound];
      } else delete out[flag];
    }
  return out;
}
