import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JWTPayload } from 'jose';
import type { Db } from '../../src/server/db/db.js';
import { pkceChallenge, randomToken } from '../../src/engine/team/pkce.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs, type TestProvider } from '../helpers/oidc-provider.js';
import { BACKENDS, openTestDb, unavailable, type Backend } from './harness.js';

/**
 * Google sign-in end to end against a real OpenID provider (oidc-provider) in Google's
 * place: the server's authorization-code flow with PKCE, state and nonce, the native
 * client's loopback redirect and code exchange (RFC 8252), and the attacks on each step.
 * The "native client" here is the test itself: its loopback listener is never started, the
 * browser is stopped at the redirect to it and the code read from the address.
 */
function googleSuite(backend: Backend): void {
  let provider: TestProvider;
  let db: Db;
  let base: string;
  /** The address a native client listens on (nothing does: the browser stops there). */
  const LOOPBACK = 'http://127.0.0.1:9/callback';

  let google: GoogleServer;
  beforeAll(async () => {
    db = await openTestDb(backend);
    google = await startGoogleServer(db);
    ({ provider, base } = google);
  });
  afterAll(async () => {
    await google?.close();
    await db?.close();
  });

  let people = 0;
  const email = (name: string) => `${name}${++people}@acme.test`;

  function client(redirectUri = LOOPBACK) {
    const verifier = randomToken();
    const state = randomToken();
    const start = new URL(`${base}/api/v1/auth/google/start`);
    start.searchParams.set('redirect_uri', redirectUri);
    start.searchParams.set('code_challenge', pkceChallenge(verifier));
    start.searchParams.set('code_challenge_method', 'S256');
    start.searchParams.set('state', state);
    return { verifier, state, start: start.href, redirectUri };
  }

  const atLoopback = (url: URL) => url.href.startsWith(LOOPBACK);

  /** Signs in as `who` in the browser; the loopback address the server sent it to. */
  async function signIn(c: ReturnType<typeof client>, who: string): Promise<URL> {
    const end = await browseAs(c.start, who, atLoopback);
    expect(end.status, end.body).toBeUndefined();
    return end.url;
  }

  const exchange = (code: string, codeVerifier: string, redirectUri = LOOPBACK) =>
    fetch(`${base}/api/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code, codeVerifier, redirectUri }),
    });

  const me = (accessToken: string) =>
    fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${accessToken}` } });

  const serverAudit = async () =>
    (
      await db.system((tx) =>
        // Insertion order: entries the linker has not reached yet have no seq.
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-' ORDER BY id`),
      )
    ).map(
      (r) =>
        JSON.parse(r.entry) as { event: string; actor: { email: string | null } } & {
          metadata: Record<string, unknown>;
        },
    );

  it('signs in: Google flow, loopback redirect with a one-time code, code + verifier exchanged for a session; audited without tokens', async () => {
    const who = email('alice');
    const c = client();
    const back = await signIn(c, who);
    expect(back.searchParams.get('state')).toBe(c.state);
    const code = back.searchParams.get('code')!;
    expect(code).toMatch(/^fbc_/);
    const res = await exchange(code, c.verifier);
    expect(res.status).toBe(200);
    const pair = (await res.json()) as {
      accessToken: string;
      refreshToken: string;
      user: { email: string };
    };
    expect(pair.user.email).toBe(who);
    const whoami = (await (await me(pair.accessToken)).json()) as { user: { email: string } };
    expect(whoami.user.email).toBe(who);
    const login = (await serverAudit()).filter(
      (e) => e.event === 'auth.login' && e.actor.email === who,
    );
    expect(login).toHaveLength(1);
    expect(login[0]!.metadata).toMatchObject({ method: 'google', client: 'native' });
    // No token, code or verifier anywhere in the audit log.
    const all = JSON.stringify(await serverAudit());
    for (const secret of [code, c.verifier, pair.accessToken, pair.refreshToken])
      expect(all).not.toContain(secret);
  });

  it('the same person signing in again is the same user', async () => {
    const who = email('carol');
    const ids = [];
    for (let i = 0; i < 2; i++) {
      const c = client();
      const code = (await signIn(c, who)).searchParams.get('code')!;
      ids.push(
        ((await (await exchange(code, c.verifier)).json()) as { user: { id: string } }).user.id,
      );
    }
    expect(ids[0]).toBe(ids[1]);
  });

  it('refuses a code used twice, and ends the session the first use started', async () => {
    const c = client();
    const code = (await signIn(c, email('dave'))).searchParams.get('code')!;
    const first = await exchange(code, c.verifier);
    expect(first.status).toBe(200);
    const { accessToken } = (await first.json()) as { accessToken: string };
    const second = await exchange(code, c.verifier);
    expect(second.status).toBe(401);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(
      /already used/,
    );
    // RFC 6749 §4.1.2: a replayed code revokes what it issued.
    expect((await me(accessToken)).status).toBe(401);
    const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
    expect(failed.at(-1)!.metadata['reason']).toMatch(/code reused/);
  });

  it('refuses a code with the wrong verifier, and the code is spent', async () => {
    const c = client();
    const code = (await signIn(c, email('erin'))).searchParams.get('code')!;
    const wrong = await exchange(code, randomToken());
    expect(wrong.status).toBe(401);
    expect((await exchange(code, c.verifier)).status).toBe(401);
    const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
    expect(JSON.stringify(failed)).toMatch(/PKCE verifier does not match/);
  });

  it('refuses a code presented with another redirect URI than it was issued for', async () => {
    const c = client();
    const code = (await signIn(c, email('fay'))).searchParams.get('code')!;
    const res = await exchange(code, c.verifier, 'http://127.0.0.1:10/callback');
    expect(res.status).toBe(401);
  });

  it.each([
    ['https://evil.example/callback'],
    ['http://evil.example:8080/callback'],
    ['http://localhost:8080/callback'],
    ['http://192.168.1.10:8080/callback'],
    ['http://127.0.0.1/callback'],
    ['http://user@127.0.0.1:8080/callback'],
    ['custom.scheme:/callback'],
  ])('refuses the non-loopback (or portless) redirect_uri %s before any redirect', async (uri) => {
    const res = await fetch(client(uri).start, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
      /redirect_uri/,
    );
  });

  it('accepts the IPv6 loopback too, and sends the browser to the provider with PKCE S256, state and nonce', async () => {
    const res = await fetch(client('http://[::1]:8080/callback').start, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(provider.issuer);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(to.searchParams.get('scope')).toBe('openid email profile');
    expect(to.searchParams.get('redirect_uri')).toBe(`${base}/api/v1/auth/google/callback`);
  });

  it('the OpenAPI document describes the three sign-in routes', async () => {
    const doc = (await (await fetch(`${base}/api/v1/openapi.json`)).json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    expect(Object.keys(doc.paths['/api/v1/auth/google/start']!.get!.responses)).toContain('302');
    expect(doc.paths['/api/v1/auth/google/callback']!.get).toBeDefined();
    expect(Object.keys(doc.paths['/api/v1/auth/token']!.post!.responses)).toContain('200');
  });

  it('refuses a start without an S256 PKCE challenge or a state', async () => {
    const c = new URL(client().start);
    for (const [name, value] of [
      ['code_challenge_method', 'plain'],
      ['code_challenge', 'short'],
      ['state', ''],
    ] as const) {
      const url = new URL(c);
      url.searchParams.set(name, value);
      expect((await fetch(url, { redirect: 'manual' })).status).toBe(400);
    }
  });

  it('refuses a replayed state: the callback works once', async () => {
    const c = client();
    let callback: URL | undefined;
    await browseAs(c.start, email('gus'), (url) => {
      if (url.pathname === '/api/v1/auth/google/callback') callback ??= url;
      return atLoopback(url);
    });
    expect(callback).toBeDefined();
    const replay = await fetch(callback!, { redirect: 'manual' });
    expect(replay.status).toBe(400);
    expect(((await replay.json()) as { error: { message: string } }).error.message).toMatch(
      /unknown, expired or already used/,
    );
    const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
    expect(failed.at(-1)!.metadata['reason']).toMatch(/state/);
  });

  it('refuses a state the server never issued', async () => {
    const res = await fetch(`${base}/api/v1/auth/google/callback?code=x&state=made-up`, {
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
  });

  describe('expiry', () => {
    /** A second server on the same database whose clock the test moves. */
    let skew = 0;
    let clocked: GoogleServer;
    beforeAll(async () => {
      clocked = await startGoogleServer(db, { now: () => new Date(Date.now() + skew) });
    });
    afterAll(() => clocked?.close());

    function clockedClient() {
      const c = client();
      return { ...c, start: c.start.replace(base, clocked.base) };
    }

    it('a code older than a minute is refused', async () => {
      skew = 0;
      const c = clockedClient();
      const code = (await signIn(c, email('late'))).searchParams.get('code')!;
      skew = 61_000;
      const res = await fetch(`${clocked.base}/api/v1/auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ code, codeVerifier: c.verifier, redirectUri: LOOPBACK }),
      });
      expect(res.status).toBe(401);
      const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
      expect(failed.at(-1)!.metadata['reason']).toBe('authorization code expired');
    });

    it('a state older than ten minutes is refused at the callback', async () => {
      skew = 0;
      const c = clockedClient();
      let callback: URL | undefined;
      await browseAs(c.start, email('slow'), (url) => {
        if (url.pathname === '/api/v1/auth/google/callback') return (callback = url) !== undefined;
        return false;
      });
      skew = 10 * 60_000 + 1000;
      const res = await fetch(callback!, { redirect: 'manual' });
      expect(res.status).toBe(400);
    });
  });

  describe('id token attacks: each refused, the client told, the failure audited', () => {
    const nowSec = () => Math.floor(Date.now() / 1000);
    it.each<[string, (c: JWTPayload) => JWTPayload, RegExp, boolean?]>([
      ['wrong audience', (c) => ({ ...c, aud: 'someone-elses-client' }), /aud/],
      ['wrong issuer', (c) => ({ ...c, iss: 'https://accounts.google.com' }), /iss/],
      ['wrong nonce', (c) => ({ ...c, nonce: 'forged' }), /nonce/],
      ['no nonce', ({ nonce: _n, ...c }) => c, /nonce/],
      ['expired', (c) => ({ ...c, iat: nowSec() - 7200, exp: nowSec() - 3600 }), /exp/],
      ['email_verified false', (c) => ({ ...c, email_verified: false }), /email.*not verified/],
      ['a signature from another key', (c) => c, /signature/, true],
    ])('%s', async (_name, tamper, reason, foreignKey = false) => {
      const who = email('mallory');
      provider.tamper = tamper;
      provider.tamperWithForeignKey = foreignKey;
      const c = client();
      let back: URL;
      try {
        back = await signIn(c, who);
      } finally {
        provider.tamper = null;
        provider.tamperWithForeignKey = false;
      }
      expect(back.searchParams.get('code')).toBeNull();
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('state')).toBe(c.state);
      const failed = (await serverAudit()).filter((e) => e.event === 'auth.login_failed');
      expect(String(failed.at(-1)!.metadata['reason'])).toMatch(reason);
      const users = await db.system((tx) =>
        tx.query('SELECT id FROM users WHERE email = $1', [who]),
      );
      expect(users).toHaveLength(0);
    });

    it('an unverified email at the provider itself', async () => {
      const who = email('unverified');
      provider.unverified.add(who);
      const c = client();
      const back = await signIn(c, who);
      expect(back.searchParams.get('error')).toBe('access_denied');
      expect(back.searchParams.get('error_description')).toMatch(/not verified/);
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`Google sign-in on ${backend}`, () => googleSuite(backend));
