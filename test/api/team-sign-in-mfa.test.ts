import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { TeamHandlerOptions } from '../../src/engine/api/handlers/team.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import type { SignInState } from '../../src/shared/api/methods/team-sign-in.js';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import { okValue } from '../helpers/api-result.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';

/**
 * The app's sign-in with a second factor, over the contract (team.signIn →
 * team.signIn.state → team.signIn.secondFactor) against the real server with
 * FORCE_MFA=true and Google sign-in at a local OpenID provider: what the Team screen of the
 * desktop app and the web mode drive.
 */
let google: GoogleServer;
const runtimes: Runtime[] = [];
beforeAll(async () => {
  google = await startGoogleServer(undefined, {}, { FORCE_MFA: 'true' });
});
afterAll(async () => {
  for (const r of runtimes) r.close();
  await google?.close();
});

/** The app of a machine where `who` signs in in the (system) browser. */
async function appFor(who: string, team: Omit<TeamHandlerOptions, 'openUrl'> = {}) {
  const home = await mkdtemp(path.join(tmpdir(), 'fb-team-mfa-'));
  const keyring = new Keyring(MasterKey.generate());
  const runtime = createRuntime({ env: { FIREBACKUP_HOME: home }, keyring });
  runtimes.push(runtime);
  const dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, {
      dataDir: home,
      env: { FIREBACKUP_HOME: home },
      team: { ...team, openUrl: async (url) => void (await browseAs(url, who)) },
    }),
  );
  const call = (method: string, input: unknown = {}) => dispatch(method, input, { kind: 'local' });
  return { call, home };
}

const error = (r: Result<unknown>) => (r.ok ? undefined : r.error);

/** Signs in up to the second factor: the step it stops at. */
async function toSecondFactor(call: (m: string, i?: unknown) => Promise<Result<unknown>>) {
  okValue(await call('team.signIn', { serverUrl: google.base }));
  let state = okValue<SignInState>(await call('team.signIn.state', { waitMs: 20_000 }));
  for (let i = 0; i < 5 && state.step === 'browser'; i++)
    state = okValue(await call('team.signIn.state', { waitMs: 20_000 }));
  if (state.step !== 'secondFactor') throw new Error(`expected a second factor, got ${state.step}`);
  return state;
}

const codeOf = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret) }).generate();

describe('the app signs in with a second factor (FORCE_MFA=true)', () => {
  let recovery: string[] = [];
  const who = 'ada@acme.test';

  it('first sign-in: enrols an authenticator (key and otpauth URI), a wrong code is said and can be retried, recovery codes come once', async () => {
    const { call } = await appFor(who);
    const step = await toSecondFactor(call);
    expect(step).toMatchObject({
      secondFactor: 'enrol',
      enrolment: { otpauthUri: expect.stringMatching(/^otpauth:\/\/totp\/FireBackup:/) },
      retryAt: null,
    });
    expect(Date.parse(step.expiresAt)).toBeGreaterThan(Date.now());
    // Not signed in until the factor is given; the screen knows which step it is at.
    expect(okValue(await call('team.status'))).toMatchObject({
      signedIn: false,
      signIn: { pending: true, secondFactor: 'enrol', error: null },
    });

    // Input the contract refuses before the engine sees it, and a recovery code too early.
    expect(error(await call('team.signIn.secondFactor', { code: '12ab56' }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    expect(
      error(await call('team.signIn.secondFactor', { recoveryCode: 'aaaa-bbbb' })),
    ).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/Recovery codes come after/),
    });

    const right = codeOf(step.enrolment!.secret);
    const wrong = right === '000000' ? '000001' : '000000';
    expect(error(await call('team.signIn.secondFactor', { code: wrong }))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/That code is not right.*authenticator app shows now/),
    });
    expect(okValue<SignInState>(await call('team.signIn.state'))).toMatchObject({
      step: 'secondFactor',
      secondFactor: 'enrol',
    });

    const done = okValue<{ email: string; recoveryCodes: string[] }>(
      await call('team.signIn.secondFactor', { code: right }),
    );
    expect(done.email).toBe(who);
    expect(done.recoveryCodes).toHaveLength(10);
    recovery = done.recoveryCodes;
    expect(okValue(await call('team.status'))).toMatchObject({
      signedIn: true,
      user: { email: who },
      signIn: { pending: false, secondFactor: null, error: null },
    });
    // The codes are not to be had again: the state says signed in, nothing more.
    expect(okValue(await call('team.signIn.state'))).toEqual({ step: 'signedIn', email: who });
    expect(okValue(await call('team.sessions.list'))).toMatchObject({
      sessions: [expect.objectContaining({ current: true })],
    });
  }, 120_000);

  it('the next sign-in asks for a code; a recovery code is taken (once), and the sign-in is kept', async () => {
    const { call } = await appFor(who);
    const step = await toSecondFactor(call);
    expect(step).toMatchObject({ secondFactor: 'code', enrolment: null });
    const done = okValue<{ recoveryCodes: string[] | null }>(
      await call('team.signIn.secondFactor', { recoveryCode: ` ${recovery[0]!} ` }),
    );
    expect(done.recoveryCodes).toBeNull();
    expect(okValue(await call('team.status'))).toMatchObject({ signedIn: true });

    const again = await appFor(who);
    await toSecondFactor(again.call);
    expect(
      error(await again.call('team.signIn.secondFactor', { recoveryCode: recovery[0]! })),
    ).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/recovery code is not valid or was used already/),
    });
    okValue(await again.call('team.signOut'));
    expect(okValue(await again.call('team.signIn.state'))).toEqual({ step: 'idle' });
  }, 120_000);

  it('too many wrong codes: refused with the time to wait, which the state carries; no code is sent meanwhile', async () => {
    const { call } = await appFor('bea@acme.test');
    const step = await toSecondFactor(call);
    const right = codeOf(step.enrolment!.secret);
    const wrong = right === '000000' ? '000001' : '000000';
    // AUTH_RATE_LIMIT_MAX (5) attempts per minute and user.
    for (let i = 0; i < 5; i++)
      expect(error(await call('team.signIn.secondFactor', { code: wrong }))).toMatchObject({
        code: 'UNAUTHENTICATED',
      });
    const limited = error(await call('team.signIn.secondFactor', { code: right }));
    expect(limited).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(/^Too many attempts at a code; try again in \d+ seconds\.$/),
    });
    const state = okValue<SignInState>(await call('team.signIn.state'));
    expect(state).toMatchObject({ step: 'secondFactor', retryAt: expect.any(String) });
    const retryAt = Date.parse((state as { retryAt: string }).retryAt);
    expect(retryAt).toBeGreaterThan(Date.now());
    expect(retryAt).toBeLessThanOrEqual(Date.now() + 61_000);
    // Refused here, before the server, with the time left.
    expect(error(await call('team.signIn.secondFactor', { code: right }))).toMatchObject({
      code: 'RESOURCE_EXHAUSTED',
      message: expect.stringMatching(/try again in \d+ seconds/),
    });
  }, 120_000);

  it('left waiting past its deadline: the step expires, says to sign in again, and takes no code', async () => {
    const { call } = await appFor('cy@acme.test', { secondFactorTimeoutMs: 1500 });
    const step = await toSecondFactor(call);
    await new Promise((r) => setTimeout(r, 1800));
    const state = okValue<SignInState>(await call('team.signIn.state'));
    expect(state).toMatchObject({
      step: 'failed',
      error: {
        code: 'DEADLINE_EXCEEDED',
        message: expect.stringMatching(/waited too long.*sign in again/),
      },
    });
    expect(okValue(await call('team.status'))).toMatchObject({
      signedIn: false,
      signIn: { pending: false, error: { code: 'DEADLINE_EXCEEDED' } },
    });
    // The half-signed-in session was ended on the server, not left to run out.
    const sessions = () =>
      google.server.db.system((tx) =>
        tx.query<{ revoked_at: Date | null }>(
          `SELECT s.revoked_at FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.email = $1`,
          ['cy@acme.test'],
        ),
      );
    for (let i = 0; i < 50 && (await sessions())[0]?.revoked_at == null; i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(await sessions()).toEqual([{ revoked_at: expect.any(Date) }]);
    expect(
      error(await call('team.signIn.secondFactor', { code: codeOf(step.enrolment!.secret) })),
    ).toMatchObject({
      code: 'FAILED_PRECONDITION',
      message: expect.stringMatching(/No sign-in is waiting for a code.*sign in again/),
    });
  }, 120_000);
});
