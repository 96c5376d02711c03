import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import { JsonText } from '../../src/server/http.js';
import { listAnswer, type ListOrgRoute } from '../../src/server/routes/list-route.js';
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
 * List pages are written from the JSON PostgreSQL makes of each row (ADR 0026), not from
 * rows read as values and serialised by the server. Clients must not see a difference:
 * for every list route, on data that fills every field with edge values (sizes beyond
 * 2^53, nulls, quotes, backslashes, control characters, non-BMP and line-separator
 * characters), on a full page, pages of one with their cursors, and an empty page, the
 * answer served parses to exactly what the rows read as values and serialised give.
 */

const LISTS = ORG_ROUTES.filter((r): r is ListOrgRoute => 'list' in r);

/** Names that need escaping in JSON, or are outside the Basic Multilingual Plane. */
const AWKWARD: readonly [string, string, string] = [
  'Quote " and \\ backslash, /slash/',
  'Line\nbreak\ttab\r\u0001\u001f\u007f end',
  'ünïcödé 🚀 \u2028\u2029 <script>&amp;</script> 中文',
];

function suite(backend: Backend): void {
  let db: Db;
  let server: TestServer;
  let owner: Session;
  let orgId: string;
  let base: string;
  let emptyProject: string;

  beforeAll(async () => {
    server = await startTestServerOn(backend);
    db = server.db;
    owner = await server.login('owner@list-json.test');
    orgId = await server.createOrg(owner, 'List "JSON" \\ ünï');
    base = `/api/v1/organizations/${orgId}`;
    const ok = server.writer(owner, base);
    // Members: with an awkward display name, and without one (null).
    for (const [i, name] of [AWKWARD[2], null].entries()) {
      const member = await server.login(`m${i}@list-json.test`);
      await server.addMember(orgId, member.userId, 'member');
      if (name !== null)
        await db.system((tx) =>
          tx.query('UPDATE users SET name = $2 WHERE id = $1', [member.userId, name]),
        );
    }
    // API keys: one used then revoked (every time filled), one fresh (nulls).
    const used = await ok('POST', '/api-keys', { name: AWKWARD[0], scopes: ['backups:read'] });
    const withKey = await server.call(used.key, 'GET', `${base}/backups`, undefined, {
      'x-organization-id': orgId,
    });
    expect(withKey.statusCode, withKey.body).toBe(200);
    await ok('DELETE', `/api-keys/${used.id}`);
    await ok('POST', '/api-keys', { name: AWKWARD[1], scopes: ['backups:read', 'backups:write'] });
    // Projects with awkward names; one left without backups (an empty filtered page).
    const projects: string[] = [];
    for (const [i, name] of AWKWARD.entries())
      projects.push((await ok('POST', '/projects', { name, firebaseProjectId: `lj-p${i}` })).id);
    emptyProject = projects[2]!;
    const s3 = await ok('POST', '/destinations', {
      name: AWKWARD[2],
      url: 's3://lj-bucket/pre"fix',
      options: { region: 'eu-west-1', forcePathStyle: true },
    });
    await ok('POST', '/destinations', { name: AWKWARD[0], url: '/srv/local "quoted"' });
    // Backups: every field at an edge, every optional field absent, a destination named.
    await ok('POST', '/backups', {
      projectId: projects[0],
      keyId: AWKWARD[0],
      sizeBytes: Number.MAX_SAFE_INTEGER,
      documentCount: 0,
      backupId: 'bkp_"quoted"\\',
      sources: ['firestore', AWKWARD[2].slice(0, 20)],
      destinationUrl: '/srv/ünï "backups"',
    });
    await ok('POST', '/backups', {
      projectId: projects[0],
      sizeBytes: 2 ** 62, // beyond 2^53: PostgreSQL writes it in exponent form
      documentCount: 1e15,
      sources: [],
    });
    await ok('POST', '/backups', { projectId: projects[1] });
    await ok('POST', '/backups', { projectId: projects[1], destinationId: s3.id });
    // Schedules (answered through their view): one full, one plain.
    const schedule = await ok('POST', '/schedules', {
      name: AWKWARD[0],
      projectId: projects[0],
      destinationId: s3.id,
      cron: '0 3 * * *',
      timeZone: 'Europe/Paris',
      retention: { keepLast: 3 },
      enabled: false,
    });
    await ok('POST', '/schedules', {
      name: AWKWARD[1],
      projectId: projects[1],
      destinationId: s3.id,
      cron: '0 4 * * *',
    });
    // Runs: started (outcome null), finished with large counts, failed with an awkward error.
    await ok('POST', '/runs', { projectId: projects[0] });
    await ok('POST', '/runs', {
      projectId: projects[0],
      scheduleId: schedule.id,
      destinationId: s3.id,
      status: 'finished',
      startedAt: '2026-11-30T10:00:00.123Z',
      finishedAt: '2026-11-30T10:05:00.999Z',
      documentCount: 2 ** 53 + 2,
      bytes: 123_456_789_012_345,
      backupId: AWKWARD[2],
    });
    const failing = await ok('POST', '/runs', { projectId: projects[1] });
    await ok('PATCH', `/runs/${failing.id}`, {
      status: 'failed',
      errorMessage: AWKWARD.join(' | '),
      errorCode: 'NOT_FOUND',
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  /** The answer served for `path?query`, and the same page read as values and serialised. */
  async function both(path: string, query: string) {
    const res = await server.call(owner, 'GET', `${base}${path}${query}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe(JsonText.TYPE);
    const route = LISTS.find((r) => r.path === path)!;
    const raw = Object.fromEntries(new URLSearchParams(query));
    // Each in a transaction of its own: a page is its transaction's last statement.
    const objects = await db.withOrg(orgId, (tx) => listAnswer(tx, route.list, raw, 'objects'));
    const json = await db.withOrg(orgId, (tx) => listAnswer(tx, route.list, raw, 'json'));
    expect(objects).not.toBeInstanceOf(JsonText);
    const served = JSON.parse(res.body) as Record<string, unknown>;
    return { served, objects: JSON.parse(JSON.stringify(objects)) as unknown, json, route };
  }

  it('every list route is built by listRoute (so this file covers it)', () => {
    expect(LISTS.map((r) => r.path).sort()).toEqual([
      '/api-keys',
      '/backups',
      '/destinations',
      '/members',
      '/projects',
      '/runs',
      '/schedules',
    ]);
  });

  it.each(LISTS.map((r) => r.path))(
    '%s: the page written by PostgreSQL parses to the page read as values, on every page',
    async (path) => {
      const { served, objects, json, route } = await both(path, '');
      expect(served).toEqual(objects);
      const items = served[route.list.field] as unknown[];
      expect(items.length).toBeGreaterThanOrEqual(2);
      expect(served['nextCursor']).toBeNull();
      // Routes without a view are answered with PostgreSQL's JSON text, exactly.
      if (route.list.view === undefined) expect(json).toBeInstanceOf(JsonText);
      // Page by page with a cursor: each page the same both ways, together the whole list.
      const walked: unknown[] = [];
      let query = '?limit=1';
      for (let pages = 0; pages < items.length; pages++) {
        const page = await both(path, query);
        expect(page.served).toEqual(page.objects);
        walked.push(...(page.served[route.list.field] as unknown[]));
        const cursor = page.served['nextCursor'];
        if (cursor === null) break;
        expect(typeof cursor).toBe('string');
        query = `?limit=1&cursor=${cursor as string}`;
      }
      expect(walked).toEqual(items);
    },
  );

  it('edge values come out as they went in: nulls, large numbers, escaped text', async () => {
    const { served } = await both('/backups', '');
    const backups = served['backups'] as Array<Record<string, unknown>>;
    const full = backups.find((b) => b['keyId'] === AWKWARD[0])!;
    expect(full).toMatchObject({
      sizeBytes: Number.MAX_SAFE_INTEGER,
      documentCount: 0,
      backupId: 'bkp_"quoted"\\',
      sources: ['firestore', AWKWARD[2].slice(0, 20)],
      destinationId: null,
      destinationUrl: '/srv/ünï "backups"',
    });
    expect(backups.find((b) => b['sizeBytes'] === 2 ** 62)).toMatchObject({
      documentCount: 1e15,
      keyId: null,
      sources: [],
      destinationUrl: null,
    });
    expect(typeof full['createdAt']).toBe('string');
    expect(full['createdAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const projects = (await both('/projects', '')).served['projects'] as Array<{ name: string }>;
    expect(projects.map((p) => p.name)).toEqual(AWKWARD);
    const runs = (await both('/runs', '?status=failed')).served['runs'] as Array<
      Record<string, unknown>
    >;
    expect(runs.map((r) => r['errorMessage'])).toEqual([AWKWARD.join(' | ')]);
  });

  it('an empty page, and a filtered page, are the same both ways', async () => {
    for (const [path, query] of [
      ['/backups', `?projectId=${emptyProject}`],
      ['/runs', '?status=finished&limit=200'],
      ['/runs', `?projectId=${emptyProject}`],
    ] as const) {
      const { served, objects } = await both(path, query);
      expect(served).toEqual(objects);
    }
    const empty = await server.call(owner, 'GET', `${base}/backups?projectId=${emptyProject}`);
    expect(empty.body).toBe('{"backups":[],"nextCursor":null}');
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(
    `list pages written by PostgreSQL on ${backend}${unavailable(backend) ? ` (${POSTGRES_MISSING})` : ''}`,
    () => suite(backend),
  );
