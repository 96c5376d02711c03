import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  openTestDb,
  startTestServer,
  unavailable,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * Idempotency-Key on the organisation's write routes: a write sent again with the same key
 * takes effect once and answers as the first time; the same key with another request is
 * refused; concurrent duplicates make one record.
 */
describe.each(BACKENDS)('Idempotency-Key (%s)', (backend) => {
  let server: TestServer;
  let alice: Session;
  let bob: Session;
  let orgId: string;
  let projectId: string;
  const keyed = (key: string) => ({ 'idempotency-key': key });
  const backups = async () =>
    (await server.call(alice, 'GET', `/api/v1/organizations/${orgId}/backups`)).json<{
      backups: { id: string }[];
    }>().backups;

  beforeAll(async () => {
    if (unavailable(backend)) return;
    const db = await openTestDb(backend);
    server = await startTestServer({}, {}, db);
    alice = await server.login('alice@acme.test');
    bob = await server.login('bob@acme.test');
    orgId = await server.createOrg(alice);
    await server.addMember(orgId, bob.userId, 'member');
    const res = await server.call(alice, 'POST', `/api/v1/organizations/${orgId}/projects`, {
      name: 'Prod',
      firebaseProjectId: 'acme-prod',
    });
    projectId = res.json<{ id: string }>().id;
    // The server does not own this database; close it with the server.
    const close = server.close.bind(server);
    server.close = async () => {
      await close();
      await db.close();
    };
  });
  afterAll(() => server?.close());

  it.skipIf(unavailable(backend))(
    'the same request twice with one key: one record, the same answer, marked as replayed',
    async () => {
      const before = (await backups()).length;
      const key = randomUUID();
      const url = `/api/v1/organizations/${orgId}/backups`;
      const body = { projectId, sizeBytes: 10 };
      const first = await server.call(alice, 'POST', url, body, keyed(key));
      const second = await server.call(alice, 'POST', url, body, keyed(key));
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json()).toEqual(first.json());
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect((await backups()).length).toBe(before + 1);
      // Without a key, the same body is a new write each time (the control).
      await server.call(alice, 'POST', url, body);
      await server.call(alice, 'POST', url, body);
      expect((await backups()).length).toBe(before + 3);
    },
  );

  it.skipIf(unavailable(backend))(
    'the same key with another body, or from another member, is refused with 409 and changes nothing',
    async () => {
      const key = randomUUID();
      const url = `/api/v1/organizations/${orgId}/backups`;
      expect(
        (await server.call(alice, 'POST', url, { projectId, sizeBytes: 1 }, keyed(key))).statusCode,
      ).toBe(201);
      const count = (await backups()).length;
      const other = await server.call(alice, 'POST', url, { projectId, sizeBytes: 2 }, keyed(key));
      expect(other.statusCode).toBe(409);
      expect(other.json().error.message).toMatch(/already used for a different request/);
      const byBob = await server.call(bob, 'POST', url, { projectId, sizeBytes: 1 }, keyed(key));
      expect(byBob.statusCode).toBe(409);
      expect((await backups()).length).toBe(count);
    },
  );

  it.skipIf(unavailable(backend))(
    'concurrent duplicates make one record and all get the first answer',
    async () => {
      const before = (await backups()).length;
      const key = randomUUID();
      const url = `/api/v1/organizations/${orgId}/backups`;
      const answers = await Promise.all(
        Array.from({ length: 6 }, () =>
          server.call(alice, 'POST', url, { projectId, documentCount: 3 }, keyed(key)),
        ),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(201));
      expect(new Set(answers.map((a) => a.json<{ id: string }>().id)).size).toBe(1);
      expect((await backups()).length).toBe(before + 1);
    },
  );

  it.skipIf(unavailable(backend))(
    'a failed write keeps no key (trying again runs it); a refused role keeps none either',
    async () => {
      const key = randomUUID();
      const url = `/api/v1/organizations/${orgId}/backups`;
      const missing = await server.call(alice, 'POST', url, { projectId: 'prj_nope' }, keyed(key));
      expect(missing.statusCode).toBe(404);
      const again = await server.call(alice, 'POST', url, { projectId: 'prj_nope' }, keyed(key));
      expect(again.statusCode).toBe(404);
      expect(again.headers['idempotent-replayed']).toBeUndefined();
      // Bob (member) may not add projects: 403, and his key is not used up by the refusal.
      const projects = `/api/v1/organizations/${orgId}/projects`;
      const body = { name: 'X', firebaseProjectId: 'acme-x1' };
      const denied = await server.call(bob, 'POST', projects, body, keyed(key));
      expect(denied.statusCode).toBe(403);
    },
  );

  it.skipIf(unavailable(backend))(
    'a new API key is never stored for replay: the repeat answers its record with key null',
    async () => {
      const key = randomUUID();
      const url = `/api/v1/organizations/${orgId}/api-keys`;
      const body = { name: 'ci', scopes: ['backups:read'] };
      const first = await server.call(alice, 'POST', url, body, keyed(key));
      expect(first.json<{ key: string }>().key).toMatch(/^fbk_/);
      const second = await server.call(alice, 'POST', url, body, keyed(key));
      expect(second.statusCode).toBe(201);
      expect(second.json()).toMatchObject({ id: first.json<{ id: string }>().id, key: null });
      const stored = await server.db.withOrg(orgId, (tx) =>
        tx.query<{ body: string }>('SELECT body FROM idempotency_keys WHERE key = $1', [key]),
      );
      expect(stored[0]!.body).not.toContain(first.json<{ key: string }>().key);
      expect(stored[0]!.body).toContain('"key":null');
    },
  );

  it.skipIf(unavailable(backend))('a malformed key is refused, not ignored', async () => {
    const res = await server.call(
      alice,
      'POST',
      `/api/v1/organizations/${orgId}/backups`,
      { projectId },
      keyed('short'),
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.message).toMatch(/Idempotency-Key/);
  });
});
