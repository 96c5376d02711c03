import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startTestServerOn,
  unavailable,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * The organisation's billing settings (plan and billing contact; no payment is processed):
 * the guide's "Manage billing" is the owner's alone, and billing changes are an audit
 * category of their own ("Admin: organization changes, billing").
 */
describe.each(BACKENDS)('billing settings (%s)', (backend) => {
  let server: TestServer;
  let owner: Session;
  let admin: Session;
  let orgId: string;
  const url = () => `/api/v1/organizations/${orgId}/billing`;

  beforeAll(async () => {
    if (unavailable(backend)) return;
    server = await startTestServerOn(backend);
    owner = await server.login('owner@acme.test');
    admin = await server.login('admin@acme.test');
    orgId = await server.createOrg(owner);
    await server.addMember(orgId, admin.userId, 'admin');
  });
  afterAll(async () => {
    await server?.close();
  });

  const auditOf = async (event: string) =>
    (await server.call(owner, 'GET', `/api/v1/organizations/${orgId}/audit?event=${event}`)).json<{
      entries: Array<Record<string, unknown>>;
    }>().entries;

  it.skipIf(unavailable(backend))(
    'a new organisation is on the free plan without a billing contact',
    async () => {
      const res = await server.call(owner, 'GET', url());
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ plan: 'free', billingEmail: null });
    },
  );

  it.skipIf(unavailable(backend))(
    "the owner changes the plan and contact: answered, kept, and audited as billing.updated in the guide's format with what changed",
    async () => {
      const res = await server.call(owner, 'PATCH', url(), {
        plan: 'team',
        billingEmail: 'Accounts@Acme.test',
      });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toMatchObject({ plan: 'team', billingEmail: 'accounts@acme.test' });
      expect((await server.call(owner, 'GET', url())).json()).toMatchObject({
        plan: 'team',
        billingEmail: 'accounts@acme.test',
        updatedBy: owner.userId,
      });
      const [entry] = await auditOf('billing.updated');
      expect(entry).toBeDefined();
      const { seq: _seq, hash: _hash, ...guide } = entry!;
      expect(Object.keys(guide).sort()).toEqual(
        ['actor', 'event', 'level', 'metadata', 'organization', 'resource', 'timestamp'].sort(),
      );
      expect(guide).toMatchObject({
        level: 'info',
        event: 'billing.updated',
        actor: { id: owner.userId, email: 'owner@acme.test' },
        resource: { type: 'billing', id: orgId },
        organization: orgId,
        metadata: {
          plan: { from: 'free', to: 'team' },
          billingEmail: { from: null, to: 'accounts@acme.test' },
        },
      });
      // Only what changed is recorded; a change to nothing records nothing.
      await server.call(owner, 'PATCH', url(), {
        plan: 'enterprise',
        billingEmail: 'accounts@acme.test',
      });
      expect((await auditOf('billing.updated'))[0]!['metadata']).toEqual({
        plan: { from: 'team', to: 'enterprise' },
      });
      const same = await server.call(owner, 'PATCH', url(), { plan: 'enterprise' });
      expect(same.statusCode).toBe(200);
      expect(await auditOf('billing.updated')).toHaveLength(2);
      // The contact can be removed.
      await server.call(owner, 'PATCH', url(), { billingEmail: null });
      expect((await server.call(owner, 'GET', url())).json()).toMatchObject({ billingEmail: null });
    },
  );

  it.skipIf(unavailable(backend))(
    'an admin may neither read nor change billing (403, recorded as access.denied)',
    async () => {
      expect((await server.call(admin, 'GET', url())).statusCode).toBe(403);
      const res = await server.call(admin, 'PATCH', url(), { plan: 'free' });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.message).toMatch(/Your role \(admin\) may not do this/);
      const denied = await auditOf('access.denied');
      expect(denied.map((e) => (e['resource'] as { id: string }).id)).toContain(
        'PATCH /api/v1/organizations/:orgId/billing',
      );
      expect((await server.call(owner, 'GET', url())).json()).toMatchObject({ plan: 'enterprise' });
    },
  );

  it.skipIf(unavailable(backend))(
    'bad input is refused with what to send: an unknown plan, a bad email, nothing to change',
    async () => {
      const plan = await server.call(owner, 'PATCH', url(), { plan: 'gold' });
      expect(plan.statusCode).toBe(400);
      expect(plan.json().error.message).toMatch(/free.*team.*enterprise/);
      const email = await server.call(owner, 'PATCH', url(), { billingEmail: 'not-an-email' });
      expect(email.statusCode).toBe(400);
      expect(email.json().error.message).toMatch(/billingEmail/);
      const empty = await server.call(owner, 'PATCH', url(), {});
      expect(empty.statusCode).toBe(400);
      expect(empty.json().error.message).toMatch(/plan or billingEmail/);
    },
  );
});
