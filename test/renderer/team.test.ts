import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { Secret, TOTP } from 'otpauth';
import { startGoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/**
 * The Team screen's store over the real engine (memory transport, dispatcher, handlers)
 * and a real organisation server: what the screen shows each role, and that a call the
 * role may not make is refused by the server and lands in the screen's error notice.
 */
describe('the Team screen’s store against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;
  let userIds: Record<string, string>;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId, userIds } = await server.organisation('owner@acme.test', {
      'ada@acme.test': 'admin',
      'vic@acme.test': 'viewer',
    }));
  });
  afterAll(async () => {
    for (const c of cleanups) c();
    await server?.close();
  });

  /** The app's store of `email`, signed in with the organisation picked. */
  const storeOf = async (email: string | null): Promise<{ store: AppStore }> => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-team-store-'));
    if (email !== null) await signedInSecrets(dir, await server.signIn(email, orgId));
    const keyring = new Keyring(MasterKey.generate());
    const runtime: Runtime = createRuntime({ env: { FIREBACKUP_HOME: dir }, keyring });
    const { store, stop } = await rendererStore(runtime, keyring, dir);
    cleanups.push(() => {
      stop();
      runtime.close();
    });
    return { store };
  };

  it('an admin sees members, API keys and the audit log, and changes a role', async () => {
    const { store } = await storeOf('ada@acme.test');
    const s = () => store.getState().team;
    await s().loadAll();
    expect(s().status.value).toMatchObject({
      signedIn: true,
      organization: { id: orgId, role: 'admin' },
    });
    expect(
      s()
        .members.value?.items.map((m) => m.email)
        .sort(),
    ).toEqual(['ada@acme.test', 'owner@acme.test', 'vic@acme.test']);
    expect(s().audit.value.length).toBeGreaterThan(0);
    expect(s().apiKeys.error).toBeNull();

    await s().setRole(userIds['vic@acme.test']!, 'member');
    expect(s().actionError).toBeNull();
    expect(s().notice).toBe('Role changed to member.');
    expect(s().members.value?.items.find((m) => m.email === 'vic@acme.test')?.role).toBe('member');
    await s().setRole(userIds['vic@acme.test']!, 'viewer');

    await s().createKey({ name: 'nightly', scopes: ['backups:read'], expiresInDays: 30 });
    expect(s().newKey?.key).toMatch(/^fbk_/);
    expect(s().apiKeys.value.map((k) => k.name)).toContain('nightly');
    s().dismissNewKey();
    expect(s().newKey).toBeNull();
  });

  it('a viewer is not loaded the admin lists; a forced role change is refused by the server and shown', async () => {
    const { store } = await storeOf('vic@acme.test');
    const s = () => store.getState().team;
    await s().loadAll();
    expect(s().status.value?.organization?.role).toBe('viewer');
    expect(s().members.value?.items).toHaveLength(3);
    // Never asked for (the screen does not show them to a viewer).
    expect(s().apiKeys).toEqual({ value: [], loading: false, error: null });
    expect(s().audit).toEqual({ value: [], loading: false, error: null });

    // Forced: the action the screen hides, called anyway.
    await s().setRole(userIds['ada@acme.test']!, 'viewer');
    expect(s().actionError).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/Your role \(viewer\) may not do this; ask an admin or owner/),
    });
    expect(s().notice).toBeNull();
    s().clearError();
    await s().revokeKey('key_nope');
    expect(s().actionError).toMatchObject({ code: 'PERMISSION_DENIED' });
  });

  it('signed out: sign-in hands the web mode the page to open; signing out cancels the wait', async () => {
    // A server that offers Google sign-in: the flow checks that before handing an address out.
    const google = await startGoogleServer();
    try {
      const { store } = await storeOf(null);
      const s = () => store.getState().team;
      await s().loadAll();
      expect(s().status.value).toMatchObject({ signedIn: false });
      await s().signIn(google.base);
      expect(s().actionError).toBeNull();
      expect(s().signInUrl).toMatch(new RegExp(`^${google.base}/api/v1/auth/google/start\\?`));
      expect(s().notice).toBe('Open the sign-in page and finish there.');
      expect(s().status.value?.signIn.pending).toBe(true);
      await s().signOut();
      expect(s().status.value?.signIn.pending).toBe(false);
    } finally {
      await google.close();
    }
  });

  it('offline: the last known members with the age of the sync, and the offline flag', async () => {
    const { store } = await storeOf('owner@acme.test');
    const s = () => store.getState().team;
    await s().sync();
    expect(s().notice).toMatch(/^Synced: 0 queued change\(s\) sent, 0 waiting\.$/);
    await server.down();
    try {
      await s().loadAll();
      expect(s().status.value).toMatchObject({ offline: true, organization: { role: 'owner' } });
      expect(s().status.value?.lastSyncAt).not.toBeNull();
      expect(s().members.value).toMatchObject({ offline: true });
      expect(s().members.value?.items).toHaveLength(3);
    } finally {
      await server.up();
    }
  });

  it('two-step sign-in: the page opened by the person, then the enrolment step, a wrong code said in the form, recovery codes shown once', async () => {
    const google = await startGoogleServer(undefined, {}, { FORCE_MFA: 'true' });
    try {
      const { store } = await storeOf(null);
      const s = () => store.getState().team;
      await s().loadAll();
      await s().signIn(google.base);
      expect(s().signInUrl).toMatch(/\/api\/v1\/auth\/google\/start\?/);
      // The person opens the page in a new tab and signs in there.
      await browseAs(s().signInUrl!, 'two-step@acme.test');
      for (let i = 0; i < 200 && s().signInState?.step !== 'secondFactor'; i++)
        await new Promise((r) => setTimeout(r, 50));
      const step = s().signInState;
      expect(step).toMatchObject({ step: 'secondFactor', secondFactor: 'enrol' });
      expect(s().notice).toBe('Set up two-step sign-in to finish signing in.');
      expect(s().signInUrl).toBeNull();
      const secret = (step as { enrolment: { secret: string } }).enrolment.secret;
      const right = new TOTP({ secret: Secret.fromBase32(secret) }).generate();

      await s().submitSecondFactor(right === '000000' ? '000 001' : '000 000');
      expect(s().secondFactorError).toMatchObject({
        code: 'UNAUTHENTICATED',
        message: expect.stringMatching(/That code is not right/),
      });
      expect(s().signInState).toMatchObject({ step: 'secondFactor' });
      expect(s().status.value?.signedIn).toBe(false);

      await s().submitSecondFactor(right);
      expect(s().secondFactorError).toBeNull();
      expect(s().recoveryCodes).toHaveLength(10);
      expect(s().notice).toBe('Signed in as two-step@acme.test.');
      expect(s().status.value).toMatchObject({
        signedIn: true,
        user: { email: 'two-step@acme.test' },
      });
      s().dismissRecoveryCodes();
      expect(s().recoveryCodes).toBeNull();
    } finally {
      await google.close();
    }
  }, 60_000);
});
