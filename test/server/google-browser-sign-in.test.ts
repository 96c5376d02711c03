import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs, CookieJar } from '../helpers/oidc-provider.js';
import { BACKENDS, openTestDb, unavailable, type Backend } from './harness.js';

/**
 * Google sign-in for pages served by the server itself (the browser flow), against a real
 * OpenID provider in Google's place: /start?return_to=… → the provider → the callback sets
 * the session cookies and CSRF token and sends the browser back to return_to. And the
 * attacks: return_to pointing elsewhere, a replayed state, a callback finished in another
 * browser than the one that started (login CSRF).
 */
function browserSuite(backend: Backend): void {
  let db: Db;
  let google: GoogleServer;
  let mfaServer: GoogleServer;
  beforeAll(async () => {
    db = await openTestDb(backend);
    google = await startGoogleServer(db);
    mfaServer = await startGoogleServer(db, {}, { FORCE_MFA: 'true' });
  });
  afterAll(async () => {
    await google?.close();
    await mfaServer?.close();
    await db?.close();
  });

  let people = 0;
  const email = (name: string) => `${name}${++people}@web.test`;
  const startUrl = (server: GoogleServer, returnTo: string) =>
    `${server.base}/api/v1/auth/google/start?return_to=${encodeURIComponent(returnTo)}`;
  const isCallback = (url: URL) => url.pathname === '/api/v1/auth/google/callback';

  /** Signs in at the provider in `jar`'s browser, stopping at the callback (not loaded). */
  async function toCallback(server: GoogleServer, returnTo: string, who: string, jar: CookieJar) {
    const end = await browseAs(startUrl(server, returnTo), who, isCallback, jar);
    expect(end.status, end.body).toBeUndefined();
    return end.url;
  }

  /** Loads `url` in `jar`'s browser without following the redirect. */
  async function visit(url: URL, jar: CookieJar) {
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: jar.header(url) } });
    jar.store(url, res);
    return res;
  }

  const cookiesOf = (res: Response) =>
    Object.fromEntries(
      res.headers.getSetCookie().map((line) => {
        const [pair = ''] = line.split(';');
        return [pair.slice(0, pair.indexOf('=')), line];
      }),
    );

  const serverAudit = async () =>
    (
      await db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-' ORDER BY id`),
      )
    ).map(
      (r) =>
        JSON.parse(r.entry) as {
          event: string;
          actor: { email: string | null };
          metadata: Record<string, unknown>;
        },
    );

  const states = async () =>
    (
      await db.system((tx) =>
        tx.query<{ n: number }>('SELECT count(*)::int AS n FROM oauth_states'),
      )
    )[0]!.n;

  it('signs in: the callback sets the session and CSRF cookies and sends the browser to return_to; the cookie session works, writes need the CSRF token', async () => {
    const who = email('web');
    const jar = new CookieJar();
    const callback = await toCallback(google, '/app/team?tab=members', who, jar);
    const res = await visit(callback, jar);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app/team?tab=members');
    const set = cookiesOf(res);
    expect(set['firebackup_session']).toMatch(/HttpOnly/);
    expect(set['firebackup_session']).toMatch(/SameSite=Strict/);
    expect(set['firebackup_session_refresh']).toMatch(/Path=\/api\/v1\/auth/);
    expect(set['firebackup_session_csrf']).toBeDefined();
    // The flow's binding cookie is spent.
    expect(set['firebackup_session_oauth']).toMatch(/Expires=Thu, 01 Jan 1970/);
    const base = new URL(google.base);
    const me = await fetch(`${google.base}/api/v1/me`, { headers: { cookie: jar.header(base) } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(who);
    // A cookie-authenticated write without X-CSRF-Token is refused; with it, it works.
    const create = (headers: Record<string, string>) =>
      fetch(`${google.base}/api/v1/organizations`, {
        method: 'POST',
        headers: { cookie: jar.header(base), 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ name: 'Web' }),
      });
    expect((await create({})).status).toBe(403);
    const csrf = /firebackup_session_csrf=([^;]+)/.exec(jar.header(base))![1]!;
    expect((await create({ 'x-csrf-token': csrf })).status).toBe(201);
    const login = (await serverAudit()).filter(
      (e) => e.event === 'auth.login' && e.actor.email === who,
    );
    expect(login.map((e) => e.metadata)).toEqual([{ method: 'google', client: 'browser' }]);
  });

  it('binds the flow to the browser with a short-lived HttpOnly, SameSite=Lax cookie scoped to the callback', async () => {
    const res = await fetch(startUrl(google, '/app'), { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toMatch(new RegExp(`^${google.provider.issuer}/`));
    const binding = cookiesOf(res)['firebackup_session_oauth']!;
    expect(binding).toMatch(/HttpOnly/);
    expect(binding).toMatch(/SameSite=Lax/);
    expect(binding).toMatch(/Path=\/api\/v1\/auth\/google\/callback/);
    expect(binding).toMatch(/Max-Age=600/);
  });

  it('refuses a return_to that leads anywhere but a path on this server, before any flow starts', async () => {
    const before = await states();
    for (const evil of [
      'https://evil.example/steal',
      '//evil.example/steal',
      '/\\evil.example',
      '\\\\evil.example',
      'javascript:alert(1)',
      '/\t/evil.example',
      '/.//evil.example',
      '/app/..//evil.example',
      'app/relative',
      '',
    ]) {
      const res = await fetch(startUrl(google, evil), { redirect: 'manual' });
      expect(res.status, JSON.stringify(evil)).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /return_to must be a path on this server/,
      );
      expect(res.headers.get('location')).toBeNull();
    }
    // return_to together with the native client's parameters is ambiguous: refused.
    const both = await fetch(`${startUrl(google, '/app')}&redirect_uri=http://127.0.0.1:9/cb`, {
      redirect: 'manual',
    });
    expect(both.status).toBe(400);
    expect(await states()).toBe(before);
  });

  it('refuses the callback in another browser than the one that started (login CSRF): no session, audited', async () => {
    const attacker = new CookieJar();
    // The attacker signs in as themself and hands the victim the callback address.
    const callback = await toCallback(google, '/app', email('mallory'), attacker);
    const victim = new CookieJar();
    const res = await visit(callback, victim);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /started in another browser/,
    );
    const set = cookiesOf(res);
    expect(set['firebackup_session']).toBeUndefined();
    expect(set['firebackup_session_refresh']).toBeUndefined();
    // A forged binding cookie fails the same way (and the state is spent by the first try).
    const other = await toCallback(google, '/app', email('mallory'), new CookieJar());
    const forged = new CookieJar();
    const url = new URL(google.base);
    forged.store(
      url,
      new Response(null, { headers: { 'set-cookie': 'firebackup_session_oauth=forged' } }),
    );
    expect((await visit(other, forged)).status).toBe(403);
    const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
    expect(failed.map((e) => e.metadata['reason'])).toEqual(
      expect.arrayContaining([
        'browser sign-in finished without the cookie of the browser that started it',
        'browser sign-in finished in another browser than the one that started it',
      ]),
    );
  });

  it('refuses a replayed state: the second visit of the callback starts no session', async () => {
    const jar = new CookieJar();
    const callback = await toCallback(google, '/app', email('replay'), jar);
    expect((await visit(callback, jar)).status).toBe(302);
    // Same browser, same address (its binding cookie set again, as an attacker might).
    const again = await fetch(callback, {
      redirect: 'manual',
      headers: { cookie: jar.header(callback) },
    });
    expect(again.status).toBe(400);
    expect(cookiesOf(again)['firebackup_session']).toBeUndefined();
    expect(((await again.json()) as { error: { message: string } }).error.message).toMatch(
      /unknown, expired or already used/,
    );
  });

  it('a sign-in the provider refuses (unverified email) goes back to return_to with sign_in_error and no session', async () => {
    const who = email('unverified');
    google.provider.unverified.add(who);
    const jar = new CookieJar();
    const callback = await toCallback(google, '/app/team', who, jar);
    const res = await visit(callback, jar);
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/app/team?sign_in_error=access_denied');
    expect(cookiesOf(res)['firebackup_session']).toBeUndefined();
    const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed').at(-1)!;
    expect(failed.metadata).toMatchObject({ method: 'google', client: 'browser' });
    expect(String(failed.metadata['reason'])).toMatch(/not verified/);
  });

  it('FORCE_MFA: the browser session starts owing its second factor (only the MFA routes answer)', async () => {
    const jar = new CookieJar();
    const callback = await toCallback(mfaServer, '/app', email('mfa'), jar);
    const res = await visit(callback, jar);
    expect(res.status).toBe(302);
    const base = new URL(mfaServer.base);
    const me = await fetch(`${mfaServer.base}/api/v1/me`, {
      headers: { cookie: jar.header(base) },
    });
    expect(me.status).toBe(401);
    expect(((await me.json()) as { error: { message: string } }).error.message).toMatch(
      /second factor/,
    );
    const mfa = await fetch(`${mfaServer.base}/api/v1/auth/mfa`, {
      headers: { cookie: jar.header(base) },
    });
    expect(await mfa.json()).toMatchObject({ pending: true, required: true, enabled: false });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`browser Google sign-in on ${backend}`, () =>
    browserSuite(backend),
  );
