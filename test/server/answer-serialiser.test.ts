import fastJson from 'fast-json-stringify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerSchema } from '../../src/server/answer-schema.js';
import type { Db } from '../../src/server/db/db.js';
import { jsonSchemaOf } from '../../src/server/openapi.js';
import { RESPONSES } from '../../src/server/responses.js';
import type { ListOrgRoute } from '../../src/server/routes/list-route.js';
import { ORG_ROUTES } from '../../src/server/routes/org.js';
import {
  BACKENDS,
  POSTGRES_MISSING,
  startTestServerOn,
  unavailable,
  type Backend,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * The list routes answer through a serialiser compiled from their documented response
 * schema (fast-json-stringify, ADR 0021). Such a serialiser writes what the schema names,
 * so a field the schema forgot, or a type it states wrongly, would change the answer
 * without a sound. This file proves, on real answers with every optional field present,
 * that the compiled answer is the JSON.stringify of what the handler returned, and that
 * every key a handler returns is in its schema (a schema that forgets a field fails here).
 */

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  additionalProperties?: boolean | Schema;
};

const ORG = '/api/v1/organizations/:orgId';

/** The routes answering through a compiled serialiser (the list routes). */
const COMPILED = ORG_ROUTES.filter((r) => r.compiledAnswer === true).map(
  (r) => `GET ${ORG}${r.path}`,
);

/** The list routes answered through a view of their rows, serialised by the server. */
const viewed = new Set(
  ORG_ROUTES.filter((r) => (r as Partial<ListOrgRoute>).list?.view !== undefined).map(
    (r) => `GET ${ORG}${r.path}`,
  ),
);

/** The properties an object schema names (a union's branches together). */
function propertiesOf(schema: Schema): Record<string, Schema> | undefined {
  if (schema.anyOf !== undefined) {
    const merged: Record<string, Schema> = {};
    for (const branch of schema.anyOf) Object.assign(merged, propertiesOf(branch) ?? {});
    return merged;
  }
  return schema.properties;
}

/**
 * Walks an answer along its schema: every key of every object must be named by the schema
 * (a free-form record, `additionalProperties: {}`, names none and holds anything), and
 * every named property seen with a value (not null) is recorded by its path, so the test
 * can demand that its data exercised each one.
 */
function walk(
  schema: Schema,
  value: Json,
  path: string,
  seen: Set<string>,
  unknown: string[],
): void {
  if (value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) walk(schema.items ?? {}, item, `${path}[]`, seen, unknown);
    return;
  }
  if (typeof value !== 'object') return;
  const properties = propertiesOf(schema);
  if (properties === undefined) return; // a record: its keys are data
  for (const [key, v] of Object.entries(value)) {
    const sub = properties[key];
    if (sub === undefined) {
      unknown.push(`${path}.${key}`);
      continue;
    }
    if (v !== null) seen.add(`${path}.${key}`);
    walk(sub, v, `${path}.${key}`, seen, unknown);
  }
}

/** Every property path of a schema (through arrays and union branches, not into records). */
function pathsOf(schema: Schema, path: string, out: Set<string>): Set<string> {
  if (schema.items !== undefined) return pathsOf(schema.items, `${path}[]`, out);
  for (const [key, sub] of Object.entries(propertiesOf(schema) ?? {})) {
    out.add(`${path}.${key}`);
    pathsOf(sub, `${path}.${key}`, out);
  }
  return out;
}

function schemaOf(route: string): Schema {
  const doc = RESPONSES[route];
  if (doc === undefined || 'file' in doc) throw new Error(`${route}: no JSON response schema`);
  return jsonSchemaOf(doc) as Schema;
}

describe('which routes answer through a compiled serialiser', () => {
  it('every list route of the organisation, each with its documented response schema', () => {
    expect(COMPILED.sort()).toEqual(
      ['members', 'api-keys', 'projects', 'backups', 'destinations', 'schedules', 'runs']
        .map((p) => `GET ${ORG}/${p}`)
        .sort(),
    );
    for (const route of COMPILED) schemaOf(route);
  });

  it('the compiled serialiser writes a key its schema forgot, and leaves out a missing one, as JSON.stringify does', () => {
    const route = `GET ${ORG}/backups`;
    const write = fastJson((answerSchema(route, 200).response as Record<number, object>)[200]!);
    const payload = {
      backups: [
        // No documentCount (an old row, say), and a key the schema does not name.
        { id: 'b', projectId: 'p', createdAt: '2026-11-30T10:00:00.000Z', createdBy: 'u' },
        { id: 'c', projectId: 'p', createdAt: '2026-11-30T10:00:00.000Z', createdBy: 'u' },
      ],
      nextCursor: null,
      forgotten: { nested: [1, 'two', null] },
    };
    Object.assign(payload.backups[1]!, { keyId: null, sizeBytes: 5, unnamed: 'still here' });
    expect(JSON.parse(write(payload))).toEqual(JSON.parse(JSON.stringify(payload)));
  });

  it('the schema check notices a forgotten field and an unexercised one (the control)', () => {
    const schema = schemaOf(`GET ${ORG}/projects`);
    const seen = new Set<string>();
    const unknown: string[] = [];
    walk(
      schema,
      { projects: [{ id: 'p', name: 'n', firebaseProjectId: 'f', extra: 1 }], nextCursor: null },
      '',
      seen,
      unknown,
    );
    expect(unknown).toEqual(['.projects[].extra']);
    expect([...pathsOf(schema, '', new Set())].filter((p) => !seen.has(p))).toEqual([
      '.projects[].createdAt',
      '.nextCursor',
    ]);
  });
});

function suite(backend: Backend): void {
  let db: Db;
  let server: TestServer;
  let owner: Session;
  let base: string;
  let orgId: string;
  /** What the last handler gave Fastify to send, before serialisation. */
  let handed: unknown;

  beforeAll(async () => {
    server = await startTestServerOn(backend);
    db = server.db;
    server.app.addHook('preSerialization', async (_request, _reply, payload) => {
      handed = structuredClone(payload);
      return payload;
    });
    owner = await server.login('owner@serialiser.test');
    orgId = await server.createOrg(owner, 'Serialiser');
    base = `/api/v1/organizations/${orgId}`;
    const ok = server.writer(owner, base);
    // Members: one with a display name, one without.
    const named = await server.login('named@serialiser.test');
    await server.addMember(orgId, named.userId, 'member');
    await db.system((tx) =>
      tx.query(`UPDATE users SET name = 'Named Person' WHERE id = $1`, [named.userId]),
    );
    // API keys: one used (last use recorded) and then revoked, one fresh.
    const used = await ok('POST', '/api-keys', { name: 'used', scopes: ['backups:read'] });
    const withKey = await server.app.inject({
      method: 'GET',
      url: `${base}/backups`,
      headers: { authorization: `Bearer ${used.key}`, 'x-organization-id': orgId },
    });
    expect(withKey.statusCode, withKey.body).toBe(200);
    await ok('DELETE', `/api-keys/${used.id}`);
    await ok('POST', '/api-keys', { name: 'fresh', scopes: ['backups:read', 'backups:write'] });
    // Projects, and backups with and without their optional metadata.
    const project = await ok('POST', '/projects', { name: 'Main', firebaseProjectId: 'ser-main' });
    await ok('POST', '/backups', {
      projectId: project.id,
      keyId: 'key-1',
      sizeBytes: 123_456_789_012,
      documentCount: 42,
      backupId: 'bkp_20261130T120000Z_abcdef',
      sources: ['firestore', 'storage'],
    });
    await ok('POST', '/backups', { projectId: project.id });
    await ok('POST', '/projects', { name: 'Second', firebaseProjectId: 'ser-second' });
    // Destinations of every kind (bucket, prefix, folder), with options of several types.
    const s3 = await ok('POST', '/destinations', {
      name: 'S3',
      url: 's3://ser-bucket/some/prefix',
      options: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true },
    });
    await ok('POST', '/destinations', { name: 'Local', url: '/srv/backups' });
    // A backup record naming its destination (the URL filled in from it).
    await ok('POST', '/backups', { projectId: project.id, destinationId: s3.id });
    await ok('POST', '/destinations', { name: 'GCS', url: 'gs://ser-gcs' });
    // Schedules: one with every setting given, one with the defaults.
    const schedule = await ok('POST', '/schedules', {
      name: 'full',
      kind: 'backup',
      projectId: project.id,
      destinationId: s3.id,
      cron: '0 3 * * *',
      timeZone: 'Europe/Paris',
      scope: {
        collections: ['users'],
        exclude: ['logs'],
        database: 'second',
        sources: ['firestore', 'auth', 'rtdb', 'storage'],
        buckets: ['ser-bucket'],
        storagePrefix: 'uploads/',
        rtdbInstances: ['ser-rtdb'],
        rtdbPaths: ['/users'],
      },
      retention: { keepLast: 3, keepDaily: 7, keepWeekly: 4, keepMonthly: 12 },
      verifyAfter: { mode: 'sample', fraction: 0.25 },
      verifyBatch: 5,
      notifyOnSuccess: true,
      allowEmpty: true,
      enabled: false,
    });
    await ok('POST', '/schedules', {
      name: 'plain',
      projectId: project.id,
      destinationId: s3.id,
      cron: '0 4 * * *',
    });
    // Runs: started (its outcome null), finished with everything, failed with its error.
    await ok('POST', '/runs', { projectId: project.id });
    await ok('POST', '/runs', {
      projectId: project.id,
      scheduleId: schedule.id,
      destinationId: s3.id,
      status: 'finished',
      startedAt: '2026-11-30T10:00:00.000Z',
      finishedAt: '2026-11-30T10:05:00.000Z',
      documentCount: 10,
      bytes: 2048,
      backupId: 'bkp_1',
    });
    const failing = await ok('POST', '/runs', { projectId: project.id, scheduleId: schedule.id });
    await ok('PATCH', `/runs/${failing.id}`, {
      status: 'failed',
      errorMessage: 'the bucket "ser" is gone\n"quoted" \u2028 ünïcödé',
      errorCode: 'NOT_FOUND',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each(COMPILED)(
    '%s: the compiled answer is JSON.stringify of the handler’s, and the schema names every key',
    async (route) => {
      const path = route.slice(`GET ${ORG}`.length);
      const schema = schemaOf(route);
      const seen = new Set<string>();
      // The whole list, and a page of one that carries a cursor (every list has 2 rows or more).
      for (const query of ['', '?limit=1']) {
        handed = undefined;
        const res = await server.call(owner, 'GET', `${base}${path}${query}`);
        expect(res.statusCode, res.body).toBe(200);
        const served = JSON.parse(res.body) as Json;
        // A list without a view is sent as the JSON text PostgreSQL wrote (ADR 0026): no
        // payload is serialised, and list-json.test.ts compares it with the serialised one.
        // Its keys are still checked against the schema below.
        expect(handed === undefined, 'a payload was serialised').toBe(!viewed.has(route));
        const plain = handed === undefined ? served : (JSON.parse(JSON.stringify(handed)) as Json);
        expect(served).toEqual(plain);
        const unknown: string[] = [];
        walk(schema, plain, '', seen, unknown);
        expect(unknown, 'keys the handler returns that its schema does not name').toEqual([]);
      }
      const missing = [...pathsOf(schema, '', new Set())].filter((p) => !seen.has(p));
      expect(missing, 'schema properties this test’s data never filled').toEqual([]);
    },
  );
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(
    `compiled list answers on ${backend}${unavailable(backend) ? ` (${POSTGRES_MISSING})` : ''}`,
    () => suite(backend),
  );
