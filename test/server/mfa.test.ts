import { Secret, TOTP } from 'otpauth';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import {
  BACKENDS,
  openTestDb,
  startTestServer,
  unavailable,
  useServers,
  type Backend,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * FORCE_MFA and optional TOTP: enrolment, the "pending MFA" session that can call nothing
 * but the MFA routes, replay and brute-force refusal, recovery codes, audit events.
 */

function mfaSuite(backend: Backend): void {
  const servers = useServers(backend);
  let clock = Date.now();
  const start = (env: Record<string, string> = {}) =>
    servers.start(env, { now: () => new Date(clock) });

  let people = 0;
  const email = (name: string) => `${name}${++people}@mfa.test`;

  const codeAt = (secret: string, at: number) =>
    new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: at });

  async function loginFull(s: TestServer, address: string) {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { credential: `test:${address}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<{
      accessToken: string;
      refreshToken: string;
      user: { id: string };
      mfa: string;
    }>();
    const session: Session = {
      userId: body.user.id,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
    };
    return { session, mfa: body.mfa };
  }

  /** Enrols `who` (its session becomes verified); returns the base32 secret and recovery codes. */
  async function enrol(s: TestServer, who: Session) {
    const started = await s.call(who, 'POST', '/api/v1/auth/mfa/enroll');
    expect(started.statusCode, started.body).toBe(201);
    const { secret, otpauthUri } = started.json<{ secret: string; otpauthUri: string }>();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/FireBackup:.*secret=/);
    const confirmed = await s.call(who, 'POST', '/api/v1/auth/mfa/confirm', {
      code: codeAt(secret, clock),
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    return { secret, recoveryCodes: confirmed.json<{ recoveryCodes: string[] }>().recoveryCodes };
  }

  const events = async (s: TestServer, userId: string) =>
    (
      await s.db.system((tx) =>
        tx.query<{ entry: string }>(`SELECT entry FROM audit_log WHERE chain = '-' ORDER BY id`),
      )
    )
      .map((r) => JSON.parse(r.entry) as { event: string; level: string; actor: { id: string } })
      .filter((e) => e.actor.id === userId);

  it('FORCE_MFA=true: a new session is pending and can call nothing but the MFA routes until enrolled', async () => {
    clock = Date.now();
    const s = await start({ FORCE_MFA: 'true' });
    const { session, mfa } = await loginFull(s, email('ann'));
    expect(mfa).toBe('enroll');
    for (const [method, url] of [
      ['GET', '/api/v1/me'],
      ['POST', '/api/v1/organizations'],
      ['GET', '/api/v1/me/sessions'],
    ] as const) {
      const res = await s.call(session, method, url, method === 'POST' ? { name: 'x' } : undefined);
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json().error.message).toMatch(/second factor/);
    }
    // A refresh keeps it pending.
    const refreshed = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refreshToken: session.refreshToken },
    });
    expect(refreshed.statusCode).toBe(200);
    const next = { ...session, ...refreshed.json<{ accessToken: string; refreshToken: string }>() };
    expect((await s.call(next, 'GET', '/api/v1/me')).statusCode).toBe(401);
    const status = await s.call(next, 'GET', '/api/v1/auth/mfa');
    expect(status.json()).toMatchObject({ enabled: false, pending: true, required: true });

    const { secret } = await enrol(s, next);
    expect((await s.call(next, 'GET', '/api/v1/me')).statusCode).toBe(200);
    // Enrolment answers the secret once; asking again is refused, never shown again.
    const again = await s.call(next, 'POST', '/api/v1/auth/mfa/enroll');
    expect(again.statusCode).toBe(409);
    expect(again.body).not.toContain(secret);
    expect((await events(s, session.userId)).map((e) => e.event)).toContain('mfa.enrolled');
  });

  it('the secret is not stored in the clear', async () => {
    clock = Date.now();
    const s = await start({ FORCE_MFA: 'true' });
    const { session } = await loginFull(s, email('bea'));
    const { secret } = await enrol(s, session);
    const dump = JSON.stringify(
      await s.db.system((tx) =>
        tx.query('SELECT * FROM user_mfa WHERE user_id = $1', [session.userId]),
      ),
    );
    expect(dump).not.toContain(secret);
    expect(dump.toLowerCase()).not.toContain(Secret.fromBase32(secret).hex.toLowerCase());
  });

  it('sign-in of an enrolled user asks for a code; a wrong code fails (audited), a right one verifies (audited)', async () => {
    clock = Date.now();
    const s = await start();
    const address = email('cy');
    const first = await loginFull(s, address);
    expect(first.mfa).toBe('none'); // FORCE_MFA off: optional
    expect((await s.call(first.session, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const { secret } = await enrol(s, first.session);
    clock += 60_000;
    const { session, mfa } = await loginFull(s, address);
    expect(mfa).toBe('verify');
    expect((await s.call(session, 'GET', '/api/v1/me')).statusCode).toBe(401);
    // A pending session cannot replace the factor it has not proved, nor turn it off.
    expect((await s.call(session, 'POST', '/api/v1/auth/mfa/enroll')).statusCode).toBe(409);
    const off = await s.call(session, 'POST', '/api/v1/auth/mfa/disable', {
      code: codeAt(secret, clock),
    });
    expect(off.statusCode).toBe(401);
    const good = codeAt(secret, clock);
    const wrong = good === '000000' ? '111111' : '000000';
    const bad = await s.call(session, 'POST', '/api/v1/auth/mfa/verify', { code: wrong });
    expect(bad.statusCode).toBe(401);
    const ok = await s.call(session, 'POST', '/api/v1/auth/mfa/verify', { code: good });
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await s.call(session, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const log = await events(s, session.userId);
    expect(log.find((e) => e.event === 'mfa.failed')).toMatchObject({ level: 'warn' });
    expect(log.map((e) => e.event)).toContain('mfa.verified');
  });

  it('the same code is refused a second time within its window (replay)', async () => {
    clock = Date.now();
    const s = await start();
    const address = email('dee');
    const { secret } = await enrol(s, (await loginFull(s, address)).session);
    clock += 60_000;
    const code = codeAt(secret, clock);
    const a = (await loginFull(s, address)).session;
    const b = (await loginFull(s, address)).session;
    expect((await s.call(a, 'POST', '/api/v1/auth/mfa/verify', { code })).statusCode).toBe(200);
    clock += 5_000; // still the same 30-second step
    const replay = await s.call(b, 'POST', '/api/v1/auth/mfa/verify', { code });
    expect(replay.statusCode).toBe(401);
    expect((await s.call(b, 'GET', '/api/v1/me')).statusCode).toBe(401);
    // The enrolment's confirming code cannot be replayed either: it used its step too.
  });

  it('attempts are limited per user (AUTH_RATE_LIMIT_MAX), across sessions and addresses', async () => {
    clock = Date.now();
    const s = await start({ AUTH_RATE_LIMIT_MAX: '3' });
    const address = email('eli');
    const { secret } = await enrol(s, (await loginFull(s, address)).session);
    clock += 120_000; // a fresh window
    const wrongFor = () => (codeAt(secret, clock) === '000000' ? '111111' : '000000');
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const session = (await loginFull(s, address)).session;
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/verify',
        remoteAddress: `10.0.0.${i + 1}`,
        headers: { authorization: `Bearer ${session.accessToken}` },
        payload: { code: wrongFor() },
      });
      codes.push(res.statusCode);
      if (res.statusCode === 429) expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
    // Even the right code waits for the window to pass.
    const session = (await loginFull(s, address)).session;
    const right = { code: codeAt(secret, clock) };
    expect((await s.call(session, 'POST', '/api/v1/auth/mfa/verify', right)).statusCode).toBe(429);
  });

  it('a recovery code works once, is stored hashed, and counts down', async () => {
    clock = Date.now();
    const s = await start();
    const address = email('fox');
    const { recoveryCodes } = await enrol(s, (await loginFull(s, address)).session);
    expect(recoveryCodes).toHaveLength(10);
    const stored = JSON.stringify(
      await s.db.system((tx) => tx.query('SELECT * FROM mfa_recovery_codes')),
    );
    for (const code of recoveryCodes) expect(stored).not.toContain(code);
    const a = (await loginFull(s, address)).session;
    const use = (who: Session) =>
      s.call(who, 'POST', '/api/v1/auth/mfa/verify', { recoveryCode: recoveryCodes[0] });
    expect((await use(a)).statusCode).toBe(200);
    expect((await s.call(a, 'GET', '/api/v1/me')).statusCode).toBe(200);
    const b = (await loginFull(s, address)).session;
    expect((await use(b)).statusCode).toBe(401);
    expect((await s.call(a, 'GET', '/api/v1/auth/mfa')).json()).toMatchObject({
      enabled: true,
      recoveryCodesLeft: 9,
    });
    expect((await events(s, a.userId)).map((e) => e.event)).toContain('mfa.recovery_used');
  });

  it('MFA can be turned off with a valid code when not forced, never when FORCE_MFA=true', async () => {
    clock = Date.now();
    let s = await start();
    const address = email('gil');
    const first = (await loginFull(s, address)).session;
    const { secret } = await enrol(s, first);
    clock += 60_000;
    const wrong = codeAt(secret, clock) === '000000' ? '111111' : '000000';
    expect(
      (await s.call(first, 'POST', '/api/v1/auth/mfa/disable', { code: wrong })).statusCode,
    ).toBe(401);
    await s.close();
    s = await start({ FORCE_MFA: 'true' });
    clock += 60_000;
    const forced = await s.call(first, 'POST', '/api/v1/auth/mfa/disable', {
      code: codeAt(secret, clock),
    });
    expect(forced.statusCode).toBe(403);
    await s.close();
    s = await start();
    clock += 60_000;
    const off = await s.call(first, 'POST', '/api/v1/auth/mfa/disable', {
      code: codeAt(secret, clock),
    });
    expect(off.statusCode, off.body).toBe(204);
    expect((await loginFull(s, address)).mfa).toBe('none');
    expect((await events(s, first.userId)).map((e) => e.event)).toContain('mfa.disabled');
  });

  it('the MFA routes refuse a call without a token (401) and an API key (403)', async () => {
    clock = Date.now();
    const s = await start();
    const owner = (await loginFull(s, email('ivy'))).session;
    const orgId = await s.createOrg(owner);
    const key = (
      await s.call(owner, 'POST', `/api/v1/organizations/${orgId}/api-keys`, {
        name: 'k',
        scopes: ['backups:read'],
      })
    ).json<{ key: string }>().key;
    const routes = [
      ['GET', '/api/v1/auth/mfa', undefined],
      ['POST', '/api/v1/auth/mfa/enroll', undefined],
      ['POST', '/api/v1/auth/mfa/confirm', { code: '123456' }],
      ['POST', '/api/v1/auth/mfa/verify', { code: '123456' }],
      ['POST', '/api/v1/auth/mfa/disable', { code: '123456' }],
    ] as const;
    for (const [method, url, body] of routes) {
      expect((await s.call(null, method, url, body)).statusCode, url).toBe(401);
      const withKey = await s.call(key, method, url, body, { 'x-organization-id': orgId });
      expect(withKey.statusCode, url).toBe(403);
    }
  });

  it('turning FORCE_MFA on makes sessions that never gave a second factor pending', async () => {
    clock = Date.now();
    let s = await start();
    const { session } = await loginFull(s, email('hu'));
    expect((await s.call(session, 'GET', '/api/v1/me')).statusCode).toBe(200);
    await s.close();
    s = await start({ FORCE_MFA: 'true' });
    clock += 10_000;
    expect((await s.call(session, 'GET', '/api/v1/me')).statusCode).toBe(401);
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => mfaSuite(backend));

const redisUrl = inject('redisUrl');

describe.skipIf(unavailable('postgres') || !redisUrl)('MFA on two instances sharing Redis', () => {
  let db: Db;
  const servers: TestServer[] = [];
  beforeAll(async () => {
    db = await openTestDb('postgres');
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  afterAll(() => db.close());
  const instance = async (env: Record<string, string> = {}) => {
    const server = await startTestServer({ REDIS_URL: redisUrl, ...env }, {}, db);
    servers.push(server);
    return server;
  };
  const codeNow = (secret: string) =>
    new TOTP({ secret: Secret.fromBase32(secret) }).generate({ timestamp: Date.now() });

  async function enrolledUser(a: TestServer) {
    const address = `multi${Date.now()}${Math.random().toString(36).slice(2)}@mfa.test`;
    const first = await a.login(address);
    const started = await a.call(first, 'POST', '/api/v1/auth/mfa/enroll');
    const secret = started.json<{ secret: string }>().secret;
    const confirmed = await a.call(first, 'POST', '/api/v1/auth/mfa/confirm', {
      code: codeNow(secret),
    });
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    return { address, secret };
  }

  it('a session verified on one instance is served at once by the other, which saw it pending', async () => {
    const a = await instance();
    const b = await instance();
    const { address, secret } = await enrolledUser(a);
    const session = await a.login(address);
    // B checks the session now (pending) and would keep that for its cache's few seconds.
    expect((await b.call(session, 'GET', '/api/v1/auth/mfa')).json()).toMatchObject({
      pending: true,
    });
    expect((await b.call(session, 'GET', '/api/v1/me')).statusCode).toBe(401);
    // The next 30-second step's code: the enrolment used this one.
    const next = new TOTP({ secret: Secret.fromBase32(secret) }).generate({
      timestamp: Date.now() + 30_000,
    });
    const verified = await a.call(session, 'POST', '/api/v1/auth/mfa/verify', { code: next });
    expect(verified.statusCode, verified.body).toBe(200);
    expect((await b.call(session, 'GET', '/api/v1/me')).statusCode).toBe(200);
  });

  it('attempts at a code are counted together across instances', async () => {
    const limits = { AUTH_RATE_LIMIT_MAX: '3' };
    const a = await instance(limits);
    const b = await instance(limits);
    const { address, secret } = await enrolledUser(a);
    const wrong = () => (codeNow(secret) === '000000' ? '111111' : '000000');
    const codes: number[] = [];
    // The enrolment's confirmation was the first attempt of this window.
    for (const server of [b, a, b]) {
      const session = await server.login(address);
      codes.push(
        (await server.call(session, 'POST', '/api/v1/auth/mfa/verify', { code: wrong() }))
          .statusCode,
      );
    }
    expect(codes).toEqual([401, 401, 429]);
  });
});
