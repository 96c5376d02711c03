import { describe, expect, it } from 'vitest';
import { BACKENDS, unavailable, useServers, type Backend, type TestServer } from './harness.js';

/**
 * Browser sessions: the token pair in cookies (the guide's SESSION_* settings), CSRF
 * protection of cookie-authenticated writes, and the SESSION_TIMEOUT idle timeout.
 */

interface Jar {
  cookies: Record<string, string>;
  csrfToken: string;
  userId: string;
}

function sessionsSuite(backend: Backend): void {
  const servers = useServers(backend);
  const start = servers.start;

  let people = 0;
  const email = (name: string) => `${name}${++people}@cookie.test`;

  const cookieHeader = (jar: Jar) =>
    Object.entries(jar.cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');

  async function browserLogin(s: TestServer, address: string): Promise<Jar> {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { credential: `test:${address}`, cookie: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{ csrfToken: string; user: { id: string } }>();
    const cookies: Record<string, string> = {};
    for (const c of res.cookies) cookies[c.name] = c.value;
    return { cookies, csrfToken: body.csrfToken, userId: body.user.id };
  }

  function browserCall(
    s: TestServer,
    jar: Jar,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: object,
    headers: Record<string, string> = {},
  ) {
    return s.app.inject({
      method,
      url,
      ...(payload !== undefined ? { payload } : {}),
      headers: { cookie: cookieHeader(jar), ...headers },
    });
  }

  describe('session cookies', () => {
    it("are set with the guide's defaults (Secure, HttpOnly, SameSite=Strict, Max-Age 1 day), tokens kept out of the body", async () => {
      const s = await start();
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { credential: `test:${email('ann')}`, cookie: true },
      });
      expect(res.statusCode).toBe(200);
      const body = res.json<Record<string, unknown>>();
      expect(body['accessToken']).toBeUndefined();
      expect(body['refreshToken']).toBeUndefined();
      expect(typeof body['csrfToken']).toBe('string');
      const byName = Object.fromEntries(res.cookies.map((c) => [c.name, c]));
      const access = byName['firebackup_session']!;
      const refresh = byName['firebackup_session_refresh']!;
      const csrf = byName['firebackup_session_csrf']!;
      for (const c of [access, refresh, csrf]) {
        expect(c).toMatchObject({ secure: true, sameSite: 'Strict', maxAge: 86_400 });
        expect(c.domain).toBeUndefined();
      }
      expect(access).toMatchObject({ httpOnly: true, path: '/' });
      // The refresh token only ever travels to the auth routes.
      expect(refresh).toMatchObject({ httpOnly: true, path: '/api/v1/auth' });
      // The page's script must read the CSRF token to echo it in a header.
      expect(csrf.httpOnly).toBeFalsy();
      expect(csrf.value).toBe(body['csrfToken']);
    });

    it('follow SESSION_COOKIE_NAME, SESSION_DOMAIN, SESSION_SAME_SITE, SESSION_MAX_AGE and SESSION_HTTP_ONLY', async () => {
      const s = await start({
        SESSION_COOKIE_NAME: 'fb',
        SESSION_DOMAIN: 'backup.example.com',
        SESSION_SAME_SITE: 'lax',
        SESSION_MAX_AGE: '3600000',
        SESSION_HTTP_ONLY: 'false',
      });
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { credential: `test:${email('ben')}`, cookie: true },
      });
      const access = res.cookies.find((c) => c.name === 'fb')!;
      expect(access).toMatchObject({
        domain: 'backup.example.com',
        sameSite: 'Lax',
        maxAge: 3600,
      });
      expect(access.httpOnly).toBeFalsy();
    });

    it('a browser session reads with its cookie; Bearer keeps working for the CLI and app', async () => {
      const s = await start();
      const jar = await browserLogin(s, email('cat'));
      const me = await browserCall(s, jar, 'GET', '/api/v1/me');
      expect(me.statusCode, me.body).toBe(200);
      expect(me.json().user.id).toBe(jar.userId);
      const cli = await s.login(email('dan'));
      expect((await s.call(cli, 'POST', '/api/v1/organizations', { name: 'CLI' })).statusCode).toBe(
        201,
      );
    });
  });

  describe('CSRF (cookie-authenticated writes need X-CSRF-Token)', () => {
    it('refuses a cookie-authenticated write without the token, with a wrong one, or with another session’s', async () => {
      const s = await start();
      const jar = await browserLogin(s, email('eve'));
      const other = await browserLogin(s, email('fay'));
      const create = (headers: Record<string, string>) =>
        browserCall(s, jar, 'POST', '/api/v1/organizations', { name: 'X' }, headers);
      for (const headers of [
        {} as Record<string, string>,
        { 'x-csrf-token': 'forged' },
        { 'x-csrf-token': other.csrfToken },
      ]) {
        const res = await create(headers);
        expect(res.statusCode, res.body).toBe(403);
        expect(res.json().error.message).toMatch(/X-CSRF-Token/);
      }
      // A cross-site form can also plant the CSRF cookie; the header is what counts.
      const planted = await browserCall(
        s,
        { ...jar, cookies: { ...jar.cookies, firebackup_session_csrf: 'x' } },
        'POST',
        '/api/v1/organizations',
        { name: 'X' },
        { 'x-csrf-token': 'x' },
      );
      expect(planted.statusCode).toBe(403);
      const ok = await create({ 'x-csrf-token': jar.csrfToken });
      expect(ok.statusCode, ok.body).toBe(201);
      // Reads need no token; logout (a write) does.
      const orgId = ok.json<{ id: string }>().id;
      expect((await browserCall(s, jar, 'GET', `/api/v1/organizations/${orgId}`)).statusCode).toBe(
        200,
      );
      expect((await browserCall(s, jar, 'POST', '/api/v1/auth/logout')).statusCode).toBe(403);
      const denied = await s.db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-'`),
      );
      expect(
        denied.map((r) => JSON.parse(r.entry)).filter((e) => e.metadata?.reason === 'csrf'),
      ).not.toHaveLength(0);
    });

    it('a Bearer call needs no CSRF token (a header cannot be sent cross-site)', async () => {
      const s = await start();
      const cli = await s.login(email('gus'));
      const res = await s.call(cli, 'POST', '/api/v1/organizations', { name: 'Y' });
      expect(res.statusCode).toBe(201);
    });

    it('refresh by cookie rotates the cookies and also needs the CSRF token; logout clears them', async () => {
      const s = await start();
      const jar = await browserLogin(s, email('hal'));
      const csrfFailures = async () =>
        (
          await s.db.system((tx) =>
            tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-'`),
          )
        ).filter((r) => JSON.parse(r.entry).metadata?.reason === 'csrf').length;
      const before = await csrfFailures();
      const noToken = await browserCall(s, jar, 'POST', '/api/v1/auth/refresh');
      expect(noToken.statusCode).toBe(403);
      expect(await csrfFailures()).toBe(before + 1);
      const refreshed = await browserCall(s, jar, 'POST', '/api/v1/auth/refresh', undefined, {
        'x-csrf-token': jar.csrfToken,
      });
      expect(refreshed.statusCode, refreshed.body).toBe(200);
      expect(refreshed.json().refreshToken).toBeUndefined();
      const next: Jar = { ...jar, cookies: { ...jar.cookies } };
      for (const c of refreshed.cookies) next.cookies[c.name] = c.value;
      expect(next.cookies['firebackup_session_refresh']).not.toBe(
        jar.cookies['firebackup_session_refresh'],
      );
      // The old refresh cookie again: reuse, the family is revoked.
      const reuse = await browserCall(s, jar, 'POST', '/api/v1/auth/refresh', undefined, {
        'x-csrf-token': jar.csrfToken,
      });
      expect(reuse.statusCode).toBe(401);
      expect((await browserCall(s, next, 'GET', '/api/v1/me')).statusCode).toBe(401);

      const again = await browserLogin(s, email('ian'));
      const out = await browserCall(s, again, 'POST', '/api/v1/auth/logout', undefined, {
        'x-csrf-token': again.csrfToken,
      });
      expect(out.statusCode).toBe(204);
      const cleared = Object.fromEntries(out.cookies.map((c) => [c.name, c]));
      for (const name of [
        'firebackup_session',
        'firebackup_session_refresh',
        'firebackup_session_csrf',
      ])
        expect(cleared[name]?.value).toBe('');
      expect((await browserCall(s, again, 'GET', '/api/v1/me')).statusCode).toBe(401);
    });
  });

  describe('SESSION_TIMEOUT (idle timeout)', () => {
    it('an idle session is refused and the refusal audited; its refresh token is refused too', async () => {
      let clock = Date.now();
      const s = await start({ SESSION_TIMEOUT: '600000' }, { now: () => new Date(clock) });
      const alice = await s.login(email('ida'));
      expect((await s.call(alice, 'GET', '/api/v1/me')).statusCode).toBe(200);
      clock += 601_000;
      // The refresh token must not revive a session that went idle.
      const refresh = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/refresh',
        payload: { refreshToken: alice.refreshToken },
      });
      expect(refresh.statusCode).toBe(401);
      expect((await s.call(alice, 'GET', '/api/v1/me')).statusCode).toBe(401);
      const entries = await s.db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-' ORDER BY id`),
      );
      const idle = entries
        .map((r) => JSON.parse(r.entry))
        .filter((e) => e.event === 'auth.session_idle' && e.actor.id === alice.userId);
      expect(idle).toHaveLength(1);
      expect(idle[0]).toMatchObject({ level: 'warn', resource: { type: 'session' } });
    });

    it('a session in use stays alive past the timeout', async () => {
      let clock = Date.now();
      const s = await start({ SESSION_TIMEOUT: '600000' }, { now: () => new Date(clock) });
      const alice = await s.login(email('jo'));
      for (let i = 0; i < 5; i++) {
        clock += 300_000;
        expect((await s.call(alice, 'GET', '/api/v1/me')).statusCode).toBe(200);
      }
    });

    it('last_seen_at is written at most once a minute, not on every check', async () => {
      let clock = Date.now();
      const s = await start({}, { now: () => new Date(clock) });
      const alice = await s.login(email('kim'));
      const sid = JSON.parse(Buffer.from(alice.accessToken.split('.')[1]!, 'base64url').toString())
        .sid as string;
      const lastSeen = async () =>
        (
          await s.db.system((tx) =>
            tx.query<{ t: Date }>('SELECT last_seen_at AS t FROM sessions WHERE id = $1', [sid]),
          )
        )[0]!.t.getTime();
      const first = await lastSeen();
      clock += 10_000; // past the 5 s session cache: the session is checked again
      expect((await s.call(alice, 'GET', '/api/v1/me')).statusCode).toBe(200);
      expect(await lastSeen()).toBe(first);
      clock += 55_000;
      expect((await s.call(alice, 'GET', '/api/v1/me')).statusCode).toBe(200);
      expect(await lastSeen()).toBe(clock);
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => sessionsSuite(backend));
