import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startTestServerOn,
  unavailable,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * Idempotency-Key on POST /organizations: creating an organisation is not an organisation's
 * route (there is none yet), so its keys belong to the user who sends them. The offline
 * queue sends it again when an answer was lost; that must never make a second organisation.
 */
describe.each(BACKENDS)('Idempotency-Key on POST /organizations (%s)', (backend) => {
  let server: TestServer;
  let alice: Session;
  let bob: Session;
  const keyed = (key: string) => ({ 'idempotency-key': key });
  const create = (who: Session, body: unknown, key?: string) =>
    server.call(who, 'POST', '/api/v1/organizations', body, key !== undefined ? keyed(key) : {});
  const orgsOf = async (who: Session) =>
    (await server.call(who, 'GET', '/api/v1/me')).json<{ organizations: { id: string }[] }>()
      .organizations;

  beforeAll(async () => {
    if (unavailable(backend)) return;
    server = await startTestServerOn(backend);
    alice = await server.login('alice@acme.test');
    bob = await server.login('bob@acme.test');
  });
  afterAll(async () => {
    await server?.close();
  });

  it.skipIf(unavailable(backend))(
    'sent again with its key: the same organisation, the same answer marked replayed, one organisation',
    async () => {
      const before = (await orgsOf(alice)).length;
      const key = randomUUID();
      const first = await create(alice, { name: 'Acme' }, key);
      const second = await create(alice, { name: 'Acme' }, key);
      expect(first.statusCode).toBe(201);
      expect(second.statusCode).toBe(201);
      expect(second.json()).toEqual(first.json());
      expect(second.headers['idempotent-replayed']).toBe('true');
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      expect((await orgsOf(alice)).length).toBe(before + 1);
      // One organization.created entry in the new organisation's chain.
      const id = first.json<{ id: string }>().id;
      const audit = await server.call(alice, 'GET', `/api/v1/organizations/${id}/audit`);
      expect(
        audit
          .json<{ entries: { event: string }[] }>()
          .entries.filter((e) => e.event === 'organization.created'),
      ).toHaveLength(1);
      // Without a key, the same body makes a new organisation each time (the control).
      await create(alice, { name: 'Acme' });
      await create(alice, { name: 'Acme' });
      expect((await orgsOf(alice)).length).toBe(before + 3);
    },
  );

  it.skipIf(unavailable(backend))(
    'the same key with another body is refused with 409 and creates nothing; another user with that key is a new request',
    async () => {
      const key = randomUUID();
      expect((await create(alice, { name: 'One' }, key)).statusCode).toBe(201);
      const before = (await orgsOf(alice)).length;
      const other = await create(alice, { name: 'Two' }, key);
      expect(other.statusCode).toBe(409);
      expect(other.json().error.code).toBe('ALREADY_EXISTS');
      expect(other.json().error.message).toMatch(/already used for a different request/);
      expect((await orgsOf(alice)).length).toBe(before);
      // Keys belong to who sends them: Bob's identical key is his own, never Alice's answer.
      const bobs = await create(bob, { name: 'One' }, key);
      expect(bobs.statusCode).toBe(201);
      expect(bobs.headers['idempotent-replayed']).toBeUndefined();
      expect(bobs.json<{ id: string }>().id).not.toBe(
        (await create(alice, { name: 'One' }, key)).json<{ id: string }>().id,
      );
    },
  );

  it.skipIf(unavailable(backend))(
    'concurrent duplicates create one organisation and all get its answer',
    async () => {
      const before = (await orgsOf(alice)).length;
      const key = randomUUID();
      const answers = await Promise.all(
        Array.from({ length: 6 }, () => create(alice, { name: 'Race' }, key)),
      );
      expect(answers.map((a) => a.statusCode)).toEqual(Array(6).fill(201));
      expect(new Set(answers.map((a) => a.json<{ id: string }>().id)).size).toBe(1);
      expect((await orgsOf(alice)).length).toBe(before + 1);
    },
  );

  it.skipIf(unavailable(backend))(
    'a refused request keeps no key (a bad body, then the good one with that key), and a malformed key is refused',
    async () => {
      const key = randomUUID();
      expect((await create(alice, { name: '' }, key)).statusCode).toBe(400);
      const good = await create(alice, { name: 'Later' }, key);
      expect(good.statusCode).toBe(201);
      expect(good.headers['idempotent-replayed']).toBeUndefined();
      const bad = await create(alice, { name: 'X' }, 'short');
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/Idempotency-Key/);
    },
  );

  it.skipIf(unavailable(backend))(
    'the OpenAPI document lists the header on POST /organizations',
    async () => {
      const doc = (await server.call(null, 'GET', '/api/v1/openapi.json')).json<{
        paths: Record<string, Record<string, { parameters?: { name: string }[] }>>;
      }>();
      const names = doc.paths['/api/v1/organizations']!.post!.parameters?.map((p) => p.name);
      expect(names).toContain('Idempotency-Key');
    },
  );
});
