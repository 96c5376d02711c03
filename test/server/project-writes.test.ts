import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startTestServerOn,
  unavailable,
  type Backend,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * Changing and removing the organisation's projects (what an app in sync mode mirrors):
 * audited, replayed once per Idempotency-Key, and a project that still has schedules or
 * backup records is not removed (the cascade would drop their history). Who may call
 * them is in the route × role matrix (matrix.test.ts).
 */
function projectWritesSuite(backend: Backend): void {
  let server: TestServer;
  let owner: Session;
  let url: string;

  beforeAll(async () => {
    server = await startTestServerOn(backend);
    owner = await server.login('owner@acme.test');
    url = `/api/v1/organizations/${await server.createOrg(owner)}`;
  });
  afterAll(async () => {
    await server.close();
  });

  const project = async (n: string) =>
    (
      await server.call(owner, 'POST', `${url}/projects`, {
        name: n,
        firebaseProjectId: `acme-${n}`,
      })
    ).json<{ id: string }>().id;
  const events = async (id: string) =>
    (await server.call(owner, 'GET', `${url}/audit`))
      .json<{ entries: Array<{ event: string; resource: { id: string } }> }>()
      .entries.filter((e) => e.resource.id === id)
      .map((e) => e.event)
      .reverse();

  it('renames a project, once per Idempotency-Key, and audits it', async () => {
    const id = await project('shop');
    const key = { 'idempotency-key': 'rename-shop-0001' };
    const first = await server.call(owner, 'PATCH', `${url}/projects/${id}`, { name: 'Shop' }, key);
    const again = await server.call(owner, 'PATCH', `${url}/projects/${id}`, { name: 'Shop' }, key);
    expect(first.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(first.json()).toMatchObject({ id, name: 'Shop', firebaseProjectId: 'acme-shop' });
    expect(await events(id)).toEqual(['project.created', 'project.updated']);
    const bad = await server.call(owner, 'PATCH', `${url}/projects/${id}`, {
      firebaseProjectId: 'Not An Id',
    });
    expect(bad.statusCode).toBe(400);
  });

  it('removes a project without schedules or backup records; refuses one with records', async () => {
    const kept = await project('kept');
    await server.call(owner, 'POST', `${url}/backups`, { projectId: kept, sizeBytes: 1 });
    const refused = await server.call(owner, 'DELETE', `${url}/projects/${kept}`);
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.message).toMatch(/1 backup record/);
    const gone = await project('gone');
    expect((await server.call(owner, 'DELETE', `${url}/projects/${gone}`)).statusCode).toBe(204);
    expect((await server.call(owner, 'GET', `${url}/projects/${gone}`)).statusCode).toBe(404);
    expect(await events(gone)).toEqual(['project.created', 'project.deleted']);
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => projectWritesSuite(backend));
