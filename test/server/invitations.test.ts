import { describe, expect, it } from 'vitest';
import { BACKENDS, unavailable, useServers, type Backend, type TestServer } from './harness.js';

/** Invitations by email link (expiring, one use, hashed) and ownership transfer. */

function invitationsSuite(backend: Backend): void {
  const servers = useServers(backend);
  let clock = Date.now();
  const start = (env: Record<string, string> = {}) =>
    servers.start(env, { now: () => new Date(clock) });

  let people = 0;
  const email = (name: string) => `${name}${++people}@invite.test`;

  async function setup(env: Record<string, string> = {}) {
    clock = Date.now();
    const s = await start(env);
    const ownerEmail = email('owner');
    const owner = await s.login(ownerEmail);
    const orgId = await s.createOrg(owner);
    const url = `/api/v1/organizations/${orgId}`;
    const invite = async (address: string, role = 'member') => {
      const res = await s.call(owner, 'POST', `${url}/invitations`, { email: address, role });
      expect(res.statusCode, res.body).toBe(201);
      return res.json<{ id: string; token: string; expiresAt: string }>();
    };
    const accept = (who: Parameters<TestServer['call']>[0], token: string) =>
      s.call(who, 'POST', '/api/v1/invitations/accept', { token });
    return { s, owner, orgId, url, invite, accept };
  }

  const auditEvents = async (s: TestServer, orgId: string) =>
    (
      await s.db.system((tx) =>
        tx.query<{ entry: string }>('SELECT entry FROM audit_log WHERE chain = $1 ORDER BY id', [
          orgId,
        ]),
      )
    ).map((r) => JSON.parse(r.entry) as { event: string; metadata: Record<string, unknown> });

  describe('invitations', () => {
    it('the invited address joins with the invited role; the link works once; all audited', async () => {
      const { s, orgId, url, invite, accept } = await setup();
      const address = email('new');
      const inv = await invite(address, 'admin');
      expect(inv.token).toMatch(/^fbi_/);
      expect(new Date(inv.expiresAt).getTime() - clock).toBe(7 * 86_400_000);
      // Only its hash is stored.
      const stored = JSON.stringify(
        await s.db.system((tx) => tx.query('SELECT * FROM invitations')),
      );
      expect(stored).not.toContain(inv.token);
      const listed = await s.call(await s.login(email('x')), 'GET', `${url}/invitations`);
      expect(listed.statusCode).toBe(404); // not a member
      const invitee = await s.login(address.toUpperCase());
      const joined = await accept(invitee, inv.token);
      expect(joined.statusCode, joined.body).toBe(200);
      expect(joined.json()).toMatchObject({ organization: { id: orgId }, role: 'admin' });
      expect((await s.call(invitee, 'GET', `${url}/members`)).statusCode).toBe(200);
      const again = await accept(invitee, inv.token);
      expect(again.statusCode).toBe(400);
      expect(again.json().error.message).toMatch(/already been used/);
      const events = (await auditEvents(s, orgId)).map((e) => e.event);
      expect(events).toEqual(expect.arrayContaining(['invitation.created', 'invitation.accepted']));
    });

    it('someone else holding the link cannot use it (the signed-in email must match)', async () => {
      const { s, url, invite, accept } = await setup();
      const inv = await invite(email('meant'));
      const thief = await s.login(email('thief'));
      const res = await accept(thief, inv.token);
      expect(res.statusCode).toBe(403);
      expect((await s.call(thief, 'GET', `${url}/members`)).statusCode).toBe(404);
    });

    it('a revoked, an expired or a made-up link is refused', async () => {
      const { s, owner, url, invite, accept } = await setup({ INVITATION_EXPIRES_IN: '2d' });
      const revokedEmail = email('rev');
      const revoked = await invite(revokedEmail);
      expect((await s.call(owner, 'DELETE', `${url}/invitations/${revoked.id}`)).statusCode).toBe(
        204,
      );
      const r = await accept(await s.login(revokedEmail), revoked.token);
      expect(r.statusCode).toBe(400);
      expect(r.json().error.message).toMatch(/revoked/);

      const lateEmail = email('late');
      const late = await invite(lateEmail);
      expect(new Date(late.expiresAt).getTime() - clock).toBe(2 * 86_400_000);
      clock += 2 * 86_400_000 + 1000;
      const lateUser = await s.login(lateEmail);
      const e = await accept(lateUser, late.token);
      expect(e.statusCode).toBe(400);
      expect(e.json().error.message).toMatch(/expired/);
      expect((await accept(lateUser, 'fbi_madeup')).statusCode).toBe(404);
      expect(
        (await s.call(null, 'POST', '/api/v1/invitations/accept', { token: late.token }))
          .statusCode,
      ).toBe(401);
    });

    it('pending invitations are listed (never the token) and revocable; another organisation’s answer 404', async () => {
      const { s, owner, orgId, url, invite } = await setup();
      const inv = await invite(email('p'));
      const listed = await s.call(owner, 'GET', `${url}/invitations`);
      expect(listed.statusCode).toBe(200);
      const list = listed.json<{ invitations: Array<Record<string, unknown>> }>().invitations;
      expect(list.map((i) => i['id'])).toEqual([inv.id]);
      expect(listed.body).not.toContain(inv.token);
      // Another organisation's owner: our invitation does not exist for them.
      const stranger = await s.login(email('stranger'));
      const otherOrg = await s.createOrg(stranger, 'Other');
      const foreign = await s.call(
        stranger,
        'DELETE',
        `/api/v1/organizations/${otherOrg}/invitations/${inv.id}`,
      );
      expect(foreign.statusCode).toBe(404);
      expect((await s.call(owner, 'GET', `${url}/invitations`)).json().invitations).toHaveLength(1);
      // Inviting someone already invited or already a member is refused.
      const dup = await s.call(owner, 'POST', `${url}/invitations`, {
        email: list[0]!['email'],
        role: 'viewer',
      });
      expect(dup.statusCode).toBe(409);
      const ownerEmail = (await s.call(owner, 'GET', '/api/v1/me')).json().user.email as string;
      expect(
        (await s.call(owner, 'POST', `${url}/invitations`, { email: ownerEmail, role: 'viewer' }))
          .statusCode,
      ).toBe(409);
      expect((await auditEvents(s, orgId)).map((e) => e.event)).toContain('invitation.created');
    });

    it('an admin cannot invite an owner', async () => {
      const { s, orgId, url } = await setup();
      const admin = await s.login(email('adm'));
      await s.addMember(orgId, admin.userId, 'admin');
      const res = await s.call(admin, 'POST', `${url}/invitations`, {
        email: email('boss'),
        role: 'owner',
      });
      expect(res.statusCode).toBe(403);
    });
  });

  describe('ownership transfer and the last owner', () => {
    it('the owner hands over to a member, who becomes owner while the old owner becomes admin', async () => {
      const { s, owner, orgId, url } = await setup();
      const bob = await s.login(email('bob'));
      await s.addMember(orgId, bob.userId, 'member');
      const res = await s.call(owner, 'POST', `${url}/ownership`, { userId: bob.userId });
      expect(res.statusCode, res.body).toBe(200);
      const roles = Object.fromEntries(
        (await s.call(bob, 'GET', `${url}/members`))
          .json<{ members: Array<{ userId: string; role: string }> }>()
          .members.map((m) => [m.userId, m.role]),
      );
      expect(roles).toEqual({ [owner.userId]: 'admin', [bob.userId]: 'owner' });
      // The former owner may no longer do owner things.
      expect(
        (await s.call(owner, 'POST', `${url}/ownership`, { userId: owner.userId })).statusCode,
      ).toBe(403);
      const entry = (await auditEvents(s, orgId)).find(
        (e) => e.event === 'organization.ownership_transferred',
      );
      expect(entry?.metadata).toMatchObject({ from: owner.userId, to: bob.userId });
    });

    it('only to a member of this organisation, and never to oneself', async () => {
      const { s, owner, url } = await setup();
      const outsider = await s.login(email('out'));
      expect(
        (await s.call(owner, 'POST', `${url}/ownership`, { userId: outsider.userId })).statusCode,
      ).toBe(404);
      expect(
        (await s.call(owner, 'POST', `${url}/ownership`, { userId: owner.userId })).statusCode,
      ).toBe(400);
    });

    it('two owners demoting each other at the same time leave one owner, never none', async () => {
      const { s, owner, orgId, url } = await setup();
      const other = await s.login(email('co'));
      await s.addMember(orgId, other.userId, 'owner');
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([
          s.call(owner, 'PATCH', `${url}/members/${other.userId}`, { role: 'admin' }),
          s.call(other, 'PATCH', `${url}/members/${owner.userId}`, { role: 'admin' }),
        ]);
        const owners = await s.db.withOrg(orgId, (tx) =>
          tx.query<{ user_id: string }>(`SELECT user_id FROM memberships WHERE role = 'owner'`),
        );
        expect(owners.length, `${a.statusCode} ${b.statusCode}`).toBe(1);
        // Reset: the remaining owner makes the other owner again.
        const remaining = owners[0]!.user_id === owner.userId ? owner : other;
        const demoted = remaining === owner ? other : owner;
        expect(
          (await s.call(remaining, 'PATCH', `${url}/members/${demoted.userId}`, { role: 'owner' }))
            .statusCode,
        ).toBe(200);
      }
    });

    it('the database itself refuses to leave an organisation without an owner', async () => {
      const { s, owner, orgId } = await setup();
      await expect(
        s.db.withOrg(orgId, (tx) =>
          tx.query(`UPDATE memberships SET role = 'admin' WHERE user_id = $1`, [owner.userId]),
        ),
      ).rejects.toThrow(/owner/);
      // Deleting the whole organisation is still possible.
      expect((await s.call(owner, 'DELETE', `/api/v1/organizations/${orgId}`)).statusCode).toBe(
        204,
      );
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => invitationsSuite(backend));
