import { createHmac } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/server/http.js';
import { csvField } from '../../src/server/audit-export.js';
import { pruneAudit } from '../../src/server/audit.js';
import type { Db } from '../../src/server/db/db.js';
import {
  BACKENDS,
  openTestDb,
  SECRET,
  startTestServer as startServerOn,
  unavailable,
  type Backend,
  type TestServer,
} from './harness.js';

function securitySuite(backend: Backend): void {
  let server: TestServer | undefined;
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db.close());
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  /** A server (cheap) over the file's database (one per backend, shared by its tests). */
  const startTestServer = (
    env?: Record<string, string>,
    extra?: Parameters<typeof startServerOn>[1],
  ): Promise<TestServer> => startServerOn(env, extra, db);

  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

  /** Signs a JWT by hand so the tests can forge what a library would refuse to make. */
  function forge(header: object, payload: object, secret = SECRET): string {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  }

  let people = 0;
  /** A fresh address per test, so tests sharing the database never share a person. */
  const email = (name: string) => `${name}${++people}@acme.test`;

  async function setup() {
    server = await startTestServer();
    const alice = await server.login(email('alice'));
    const orgId = await server.createOrg(alice);
    const claims = (
      await server.app.inject({
        method: 'GET',
        url: '/api/v1/me',
        headers: { authorization: `Bearer ${alice.accessToken}` },
      })
    ).json<{ user: { id: string } }>();
    const sid = JSON.parse(Buffer.from(alice.accessToken.split('.')[1]!, 'base64url').toString())
      .sid as string;
    const now = Math.floor(Date.now() / 1000);
    const good = {
      sub: claims.user.id,
      sid,
      iss: 'firebackup',
      aud: 'firebackup-api',
      iat: now,
      exp: now + 600,
    };
    return { server, alice, orgId, good, url: `/api/v1/organizations/${orgId}` };
  }

  describe('JWT attacks', () => {
    it('accepts a well-formed token (the control case)', async () => {
      const { server, good, url } = await setup();
      const res = await server.call(forge({ alg: 'HS256', typ: 'JWT' }, good), 'GET', url);
      expect(res.statusCode).toBe(200);
    });

    it.each([
      ['alg none', () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64({})}.`],
      ['another algorithm (HS512)', () => 'hs512'],
      ['wrong issuer', () => 'iss'],
      ['wrong audience', () => 'aud'],
      ['expired', () => 'exp'],
      ['tampered signature', () => 'sig'],
      ['tampered payload', () => 'payload'],
    ])('refuses %s with 401 and records the failure', async (_name, which) => {
      const { server, good, url } = await setup();
      const kind = which();
      let token: string;
      if (kind === 'hs512') {
        token = await new SignJWT({ sid: good.sid })
          .setProtectedHeader({ alg: 'HS512' })
          .setSubject(good.sub)
          .setIssuer(good.iss)
          .setAudience(good.aud)
          .setExpirationTime(good.exp)
          .sign(new TextEncoder().encode(SECRET));
      } else if (kind === 'iss') token = forge({ alg: 'HS256' }, { ...good, iss: 'evil' });
      else if (kind === 'aud') token = forge({ alg: 'HS256' }, { ...good, aud: 'other-api' });
      else if (kind === 'exp') token = forge({ alg: 'HS256' }, { ...good, exp: good.iat - 10 });
      else if (kind === 'sig') {
        const t = forge({ alg: 'HS256' }, good);
        token = `${t.slice(0, -4)}${t.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
      } else if (kind === 'payload') {
        const [h, , s] = forge({ alg: 'HS256' }, good).split('.');
        token = `${h}.${b64({ ...good, sub: 'usr_someone_else' })}.${s}`;
      } else token = kind;
      const failures = () =>
        server.db.system(async (tx) => {
          const [row] = await tx.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM audit_log WHERE chain = '-' AND entry LIKE '%auth.failed%'`,
          );
          return row!.n;
        });
      const before = await failures();
      const res = await server.call(token, 'GET', url);
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
      expect(await failures()).toBe(before + 1);
    });

    it('a token signed with another secret is refused', async () => {
      const { server, good, url } = await setup();
      const res = await server.call(forge({ alg: 'HS256' }, good, 'y'.repeat(48)), 'GET', url);
      expect(res.statusCode).toBe(401);
    });

    it('a removed member’s still-valid token no longer reaches the organisation (404)', async () => {
      const { server, alice, orgId, url } = await setup();
      const bob = await server.login(email('bob'));
      await server.addMember(orgId, bob.userId, 'admin');
      expect((await server.call(bob, 'GET', url)).statusCode).toBe(200);
      const removed = await server.call(alice, 'DELETE', `${url}/members/${bob.userId}`);
      expect(removed.statusCode).toBe(204);
      expect((await server.call(bob, 'GET', url)).statusCode).toBe(404);
      expect((await server.call(bob, 'GET', `${url}/members`)).statusCode).toBe(404);
    });

    it('a signed-out session’s access token is refused', async () => {
      const { server, alice, url } = await setup();
      expect((await server.call(alice, 'POST', '/api/v1/auth/logout')).statusCode).toBe(204);
      expect((await server.call(alice, 'GET', url)).statusCode).toBe(401);
    });

    it('sessions are listed and revocable one by one or all at once', async () => {
      const { server, alice, url } = await setup();
      const aliceEmail = (await server.call(alice, 'GET', '/api/v1/me')).json<{
        user: { email: string };
      }>().user.email;
      const laptop = await server.login(aliceEmail);
      const phone = await server.login(aliceEmail);
      const listed = await server.call(alice, 'GET', '/api/v1/me/sessions');
      const sessions = listed.json<{ sessions: Array<{ id: string; current: boolean }> }>()
        .sessions;
      expect(sessions).toHaveLength(3);
      expect(sessions.filter((s) => s.current)).toHaveLength(1);
      const laptopSid = sessions.find((s) => !s.current)!.id;
      expect(
        (await server.call(alice, 'DELETE', `/api/v1/me/sessions/${laptopSid}`)).statusCode,
      ).toBe(204);
      const stillOk = [laptop, phone].map((s) => server.call(s, 'GET', url));
      const codes = (await Promise.all(stillOk)).map((r) => r.statusCode).sort();
      expect(codes).toEqual([200, 401]);
      // Another user's session id is not found, not revoked.
      const bob = await server.login(email('bob'));
      const bobSid = (await server.call(bob, 'GET', '/api/v1/me/sessions')).json<{
        sessions: Array<{ id: string }>;
      }>().sessions[0]!.id;
      expect((await server.call(alice, 'DELETE', `/api/v1/me/sessions/${bobSid}`)).statusCode).toBe(
        404,
      );
      expect((await server.call(bob, 'GET', '/api/v1/me')).statusCode).toBe(200);
      expect((await server.call(alice, 'DELETE', '/api/v1/me/sessions')).statusCode).toBe(204);
      for (const s of [alice, laptop, phone])
        expect((await server.call(s, 'GET', url)).statusCode).toBe(401);
    });

    it('a refused sign-in credential is 401 and audited as auth.login_failed', async () => {
      server = await startTestServer();
      const res = await server.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { credential: 'forged' },
      });
      expect(res.statusCode).toBe(401);
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
      const rows = await server.db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-'`),
      );
      expect(rows.map((r) => JSON.parse(r.entry).event)).toContain('auth.login_failed');
    });
  });

  describe('refresh tokens', () => {
    it('rotate on every use, and reuse of a rotated one revokes the whole family (audited)', async () => {
      const { server, alice, url } = await setup();
      const refresh = (token: string) =>
        server.app.inject({
          method: 'POST',
          url: '/api/v1/auth/refresh',
          payload: { refreshToken: token },
        });
      const first = await refresh(alice.refreshToken);
      expect(first.statusCode).toBe(200);
      const next = first.json<{ accessToken: string; refreshToken: string }>();
      expect(next.refreshToken).not.toBe(alice.refreshToken);
      expect((await server.call(next.accessToken, 'GET', url)).statusCode).toBe(200);

      // The old token again: someone copied it. The family dies, including the new tokens.
      const reuse = await refresh(alice.refreshToken);
      expect(reuse.statusCode).toBe(401);
      expect((await refresh(next.refreshToken)).statusCode).toBe(401);
      expect((await server.call(next.accessToken, 'GET', url)).statusCode).toBe(401);
      expect((await server.call(alice, 'GET', url)).statusCode).toBe(401);

      const events = await server.db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-' ORDER BY id`),
      );
      const reuseEntry = events
        .map((r) => JSON.parse(r.entry))
        .find((e) => e.event === 'auth.refresh_reuse');
      expect(reuseEntry).toMatchObject({ level: 'warn', actor: { id: alice.userId } });
    });

    it('stores only hashes of refresh tokens', async () => {
      const { server, alice } = await setup();
      const dump = await server.db.system((tx) =>
        tx.query<{ token_hash: string }>('SELECT token_hash FROM refresh_tokens'),
      );
      expect(dump.map((r) => r.token_hash)).not.toContain(alice.refreshToken);
      expect(JSON.stringify(dump)).not.toContain(alice.refreshToken.slice(4));
    });

    it('SESSION_TIMEOUT ends an idle session', async () => {
      let clock = Date.now();
      server = await startTestServer({ SESSION_TIMEOUT: '60000' }, { now: () => new Date(clock) });
      const alice = await server.login(email('alice'));
      const orgId = await server.createOrg(alice);
      clock += 30_000;
      expect((await server.call(alice, 'GET', `/api/v1/organizations/${orgId}`)).statusCode).toBe(
        200,
      );
      clock += 61_000;
      expect((await server.call(alice, 'GET', `/api/v1/organizations/${orgId}`)).statusCode).toBe(
        401,
      );
    });
  });

  describe('audit log', () => {
    async function withEvents() {
      const ctx = await setup();
      await ctx.server.call(ctx.alice, 'POST', `${ctx.url}/api-keys`, {
        name: 'ci',
        scopes: ['backups:read'],
      });
      await ctx.server.call(ctx.alice, 'POST', `${ctx.url}/projects`, {
        name: 'P',
        firebaseProjectId: 'acme-p',
      });
      // Entries join the chain just after their request (ADR 0013); reading the log links
      // what has committed, so the tampering below targets chained entries.
      await ctx.server.call(ctx.alice, 'GET', `${ctx.url}/audit/verify`);
      return ctx;
    }

    it("records entries in the guide's format", async () => {
      const { server, alice, orgId, url } = await withEvents();
      const res = await server.call(alice, 'GET', `${url}/audit`);
      const entries = res.json<{ entries: Array<Record<string, unknown>> }>().entries;
      expect(entries.map((e) => e['event'])).toEqual([
        'project.created',
        'apikey.created',
        'organization.created',
      ]);
      const entry = entries[1]!;
      expect(
        Object.keys(entry)
          .filter((k) => k !== 'seq' && k !== 'hash')
          .sort(),
      ).toEqual(
        ['actor', 'event', 'level', 'metadata', 'organization', 'resource', 'timestamp'].sort(),
      );
      expect(entry).toMatchObject({
        level: 'info',
        actor: {
          id: alice.userId,
          email: expect.stringMatching(/^alice\d+@acme\.test$/),
          ip: '127.0.0.1',
        },
        resource: { type: 'api_key' },
        organization: orgId,
      });
      expect(new Date(String(entry['timestamp'])).toISOString()).toBe(entry['timestamp']);
      // The key itself is never in the log.
      expect(JSON.stringify(entries)).not.toMatch(/fbk_[A-Za-z0-9_-]{20,}/);
      const search = await server.call(alice, 'GET', `${url}/audit?event=apikey.created`);
      expect(search.json<{ entries: unknown[] }>().entries).toHaveLength(1);
    });

    it('admins download it as NDJSON (the guide format, oldest first) and as CSV safe for spreadsheets', async () => {
      const { server, alice, url } = await withEvents();
      // A project name a spreadsheet would run as a formula, with a comma and quotes.
      await server.call(alice, 'POST', `${url}/projects`, {
        name: '=HYPERLINK("x", 1),evil',
        firebaseProjectId: 'acme-q',
      });
      const listed = (await server.call(alice, 'GET', `${url}/audit`)).json<{
        entries: Array<Record<string, unknown>>;
      }>().entries;
      const nd = await server.call(alice, 'GET', `${url}/audit/export`);
      expect(nd.statusCode).toBe(200);
      expect(nd.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(nd.headers['content-disposition']).toBe('attachment; filename="audit.ndjson"');
      const lines = nd.body
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(lines).toEqual([...listed].reverse());
      const csv = await server.call(
        alice,
        'GET',
        `${url}/audit/export?format=csv&event=project.created`,
      );
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const rows = csv.body.trimEnd().split('\r\n');
      expect(rows[0]).toBe(
        'seq,timestamp,level,event,actor_id,actor_email,actor_ip,resource_type,resource_id,organization,metadata,hash',
      );
      expect(rows).toHaveLength(3);
      // The metadata column is JSON, quoted; the formula-like name inside it starts with {,
      // so it stays as it is, and its quotes are doubled.
      expect(rows[2]).toContain('"{""name"":""=HYPERLINK(\\""x\\"", 1),evil""');
      expect(csvField('=1+1')).toBe("'=1+1");
      expect(csvField('-2,3')).toBe('"\'-2,3"');
      expect((await server.call(alice, 'GET', `${url}/audit/export?format=xml`)).statusCode).toBe(
        400,
      );
    });

    it('verify passes on an intact chain and finds an edited entry', async () => {
      const { server, alice, orgId, url } = await withEvents();
      expect((await server.call(alice, 'GET', `${url}/audit/verify`)).json()).toEqual({
        ok: true,
        entries: 3,
      });
      // The table refuses edits outright; an attacker with owner rights must first disable that.
      await expect(
        server.db.system((tx) =>
          tx.query(`UPDATE audit_log SET entry = entry WHERE chain = $1`, [orgId]),
        ),
      ).rejects.toThrow(/append-only/);
      await server.db.system(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
        await tx.query(
          `UPDATE audit_log SET entry = replace(entry, '"ci"', '"innocent"') WHERE chain = $1 AND seq = 2`,
          [orgId],
        );
        await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
      });
      expect((await server.call(alice, 'GET', `${url}/audit/verify`)).json()).toMatchObject({
        ok: false,
        brokenAt: 2,
        reason: 'entry edited',
      });
    });

    it.each([
      [2, 'entry missing'],
      [3, 'entries missing at the end'],
    ])('verify finds a deleted entry (seq %i: %s)', async (seq, reason) => {
      const { server, alice, orgId, url } = await withEvents();
      await server.db.system(async (tx) => {
        await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
        await tx.query('DELETE FROM audit_log WHERE chain = $1 AND seq = $2', [orgId, seq]);
        await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
      });
      expect((await server.call(alice, 'GET', `${url}/audit/verify`)).json()).toMatchObject({
        ok: false,
        brokenAt: seq,
        reason,
      });
    });
  });

  describe('audit retention (AUDIT_LOG_RETENTION_DAYS)', () => {
    it('removes entries older than the retention, records an anchor, and the rest still verifies', async () => {
      let clock = Date.now() - 400 * 86_400_000;
      server = await startTestServer({}, { now: () => new Date(clock) });
      const address = email('alice');
      let alice = await server.login(address);
      const orgId = await server.createOrg(alice);
      const url = `/api/v1/organizations/${orgId}`;
      const project = async (n: number) => {
        const res = await server!.call(alice, 'POST', `${url}/projects`, {
          name: `p${n}`,
          firebaseProjectId: `proj-${n}`,
        });
        expect(res.statusCode).toBe(201);
      };
      await project(1);
      await project(2);
      clock = Date.now();
      alice = await server.login(address); // the old session has long expired
      await project(3);
      // Created 400 days ago, the organisation's first three entries are past 365 days.
      const removed = await pruneAudit(server.db, 365, new Date(clock));
      expect(removed).toBeGreaterThanOrEqual(3);
      const verify = (await server.call(alice, 'GET', `${url}/audit/verify`)).json();
      expect(verify).toEqual({ ok: true, entries: 1, prunedThrough: 3 });
      const left = (await server.call(alice, 'GET', `${url}/audit`)).json<{
        entries: Array<{ seq: number; event: string }>;
      }>().entries;
      expect(left.map((e) => [e.seq, e.event])).toEqual([[4, 'project.created']]);
      // Nothing newer than the anchor can be deleted, even inside a pruning transaction.
      await expect(
        server.db.system(async (tx) => {
          await tx.query(`SELECT set_config('app.audit_prune', 'on', true)`);
          await tx.query('DELETE FROM audit_log WHERE chain = $1 AND seq = 4', [orgId]);
        }),
      ).rejects.toThrow(/append-only/);
      // A second run finds nothing more to remove in this organisation; appends continue the chain.
      await pruneAudit(server.db, 365, new Date(clock));
      await project(5);
      expect((await server.call(alice, 'GET', `${url}/audit/verify`)).json()).toEqual({
        ok: true,
        entries: 2,
        prunedThrough: 3,
      });
      // A forged anchor (to hide more removed entries) breaks the link to the first kept one.
      await server.db.system((tx) =>
        tx.query(`UPDATE audit_anchors SET hash = repeat('f', 64) WHERE chain = $1`, [orgId]),
      );
      expect((await server.call(alice, 'GET', `${url}/audit/verify`)).json()).toMatchObject({
        ok: false,
        brokenAt: 4,
      });
    });
  });

  describe('row-level security, the second wall', () => {
    it('a tenant query without the organisation setting sees nothing; with it, only that organisation', async () => {
      const { server, alice, orgId } = await setup();
      const other = await server.createOrg(alice, 'Second');
      const asTenant = (org: string | null) =>
        server.db.system(async (tx) => {
          await tx.query('SET LOCAL ROLE firebackup_app');
          if (org !== null) await tx.query(`SELECT set_config('app.org_id', $1, true)`, [org]);
          return {
            orgs: await tx.query<{ id: string }>('SELECT id FROM organisations'),
            members: await tx.query('SELECT * FROM memberships'),
            audit: await tx.query('SELECT * FROM audit_log'),
          };
        });
      const none = await asTenant(null);
      expect(none).toEqual({ orgs: [], members: [], audit: [] });
      const one = await asTenant(orgId);
      expect(one.orgs.map((o) => o.id)).toEqual([orgId]);
      expect(one.members).toHaveLength(1);
      // The server's own login, when it is not a superuser (managed PostgreSQL), still sees
      // across organisations for sign-in and sessions: a non-superuser role stands in for it.
      const asServerLogin = await server.db.system(async (tx) => {
        // Roles belong to the whole PostgreSQL cluster: a name of this run only.
        const role = `server_login_${Date.now()}`;
        await tx.query(`CREATE ROLE ${role} NOLOGIN NOSUPERUSER`);
        await tx.query(`GRANT SELECT ON organisations, memberships TO ${role}`);
        await tx.query(`SET LOCAL ROLE ${role}`);
        return tx.query<{ id: string }>('SELECT id FROM organisations');
      });
      expect(asServerLogin.map((o) => o.id)).toEqual(expect.arrayContaining([orgId, other]));
      // Writing another tenant's row is refused by the policy too.
      await expect(
        server.db.withOrg(orgId, (tx) =>
          tx.query(
            `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ('p', $1, 'x', 'xxxx')`,
            [other],
          ),
        ),
      ).rejects.toThrow(/row-level security/);
    });
  });

  describe('members', () => {
    it('the last owner cannot be demoted or leave; with a second owner they can', async () => {
      const { server, alice, orgId, url } = await setup();
      const demote = await server.call(alice, 'PATCH', `${url}/members/${alice.userId}`, {
        role: 'admin',
      });
      expect(demote.statusCode).toBe(400);
      expect(demote.json().error.message).toMatch(/last owner/);
      expect(
        (await server.call(alice, 'DELETE', `${url}/members/${alice.userId}`)).statusCode,
      ).toBe(400);
      const bob = await server.login(email('bob'));
      await server.addMember(orgId, bob.userId, 'admin');
      // An admin cannot make themselves owner, nor touch the owner.
      expect(
        (await server.call(bob, 'PATCH', `${url}/members/${bob.userId}`, { role: 'owner' }))
          .statusCode,
      ).toBe(403);
      expect((await server.call(bob, 'DELETE', `${url}/members/${alice.userId}`)).statusCode).toBe(
        403,
      );
      expect(
        (await server.call(alice, 'PATCH', `${url}/members/${bob.userId}`, { role: 'owner' }))
          .statusCode,
      ).toBe(200);
      expect(
        (await server.call(alice, 'DELETE', `${url}/members/${alice.userId}`)).statusCode,
      ).toBe(204);
      const audit = await server.call(bob, 'GET', `${url}/audit`);
      expect(
        audit.json<{ entries: Array<{ event: string }> }>().entries.map((e) => e.event),
      ).toEqual(expect.arrayContaining(['member.role_changed', 'member.removed']));
    });
  });

  describe('HTTP surface', () => {
    it("sends the guide's security headers on answers, errors and unknown routes", async () => {
      server = await startTestServer();
      for (const url of ['/healthz', '/api/v1/organizations/org_x', '/nope']) {
        const res = await server.app.inject({ method: 'GET', url });
        for (const [name, value] of Object.entries(SECURITY_HEADERS))
          expect(res.headers[name.toLowerCase()]).toBe(value);
      }
      expect((await server.app.inject({ method: 'GET', url: '/nope' })).json().error.code).toBe(
        'NOT_FOUND',
      );
    });

    it('readyz reports the database', async () => {
      server = await startTestServer();
      const res = await server.app.inject({ method: 'GET', url: '/readyz' });
      expect(res.json()).toEqual({
        status: 'ready',
        database: backend === 'pglite' ? 'pglite' : 'postgres',
      });
    });

    it('rate limits: the auth routes after AUTH_RATE_LIMIT_MAX, the API after RATE_LIMIT_MAX, 429 with Retry-After', async () => {
      server = await startTestServer({
        RATE_LIMIT_ENABLED: 'true',
        RATE_LIMIT_MAX: '8',
        AUTH_RATE_LIMIT_MAX: '3',
      });
      const login = () =>
        server!.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { credential: 'test:a@b.test' },
        });
      for (let i = 0; i < 3; i++) expect((await login()).statusCode).toBe(200);
      const limited = await login();
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(limited.json().error.code).toBe('RESOURCE_EXHAUSTED');
      const codes: number[] = [];
      for (let i = 0; i < 9; i++)
        codes.push((await server.app.inject({ method: 'GET', url: '/api/v1/me' })).statusCode);
      expect(codes.slice(0, 8).every((c) => c === 401)).toBe(true);
      expect(codes[8]).toBe(429);
    });

    it('a made-up API key does not buy a fresh budget; a key is limited across addresses', async () => {
      server = await startTestServer({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '3' });
      const call = (key: string, ip: string) =>
        server!.app.inject({
          method: 'GET',
          url: '/api/v1/me',
          remoteAddress: ip,
          headers: { authorization: `Bearer ${key}`, 'x-organization-id': 'org_x' },
        });
      const codes: number[] = [];
      for (let i = 0; i < 4; i++)
        codes.push((await call(`fbk_random${i}xxxxxxxxxxxx`, '10.0.0.1')).statusCode);
      expect(codes.slice(3)).toEqual([429]);
      const keyCodes: number[] = [];
      for (let i = 0; i < 4; i++)
        keyCodes.push((await call('fbk_samekeyxxxxxxxx', `10.0.1.${i}`)).statusCode);
      expect(keyCodes.slice(3)).toEqual([429]);
    });

    it('serves over a real listening port', async () => {
      server = await startTestServer();
      const address = await server.app.listen({ host: '127.0.0.1', port: 0 });
      const alice = await server.login(email('alice'));
      const created = await fetch(`${address}/api/v1/organizations`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${alice.accessToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ name: 'Over TCP' }),
      });
      expect(created.status).toBe(201);
      expect(created.headers.get('strict-transport-security')).toMatch(/max-age=31536000/);
      const { id } = (await created.json()) as { id: string };
      const got = await fetch(`${address}/api/v1/organizations/${id}`, {
        headers: { authorization: `Bearer ${alice.accessToken}` },
      });
      expect(await got.json()).toMatchObject({ id, name: 'Over TCP', role: 'owner' });
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => securitySuite(backend));
