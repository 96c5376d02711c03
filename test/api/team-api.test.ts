import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import type { TeamCredentials } from '../../src/engine/team/credentials.js';
import type { BrowserSignIn, TeamHandlerOptions } from '../../src/engine/api/handlers/team.js';
import { okValue } from '../helpers/api-result.js';
import { startGoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/**
 * The contract's `team.*` methods through the shared dispatcher and the engine's
 * handlers, against a real organisation server: what the app's team screens call.
 */
describe('team.* over the dispatcher against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;
  let userIds: Record<string, string>;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId, userIds } = await server.organisation('owner@acme.test', {
      'ada@acme.test': 'admin',
      'vic@acme.test': 'viewer',
      'mem@acme.test': 'member',
    }));
  });
  afterAll(async () => {
    for (const r of runtimes) r.close();
    await server?.close();
  });

  /** The app of `email` (signed in, no organisation picked yet): its dispatcher. */
  const appOf = async (email: string | null, team?: TeamHandlerOptions) => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-team-api-'));
    const keyring = new Keyring(MasterKey.generate());
    const runtime = createRuntime({ env: { FIREBACKUP_HOME: home }, keyring });
    runtimes.push(runtime);
    const secrets =
      email === null ? undefined : await signedInSecrets(home, await server.signIn(email, null));
    const dispatch = createDispatcher(
      createApiHandlers(runtime, keyring, {
        dataDir: home,
        env: { FIREBACKUP_HOME: home },
        ...(secrets ? { secrets } : {}),
        ...(team ? { team } : {}),
      }),
    );
    return (method: string, input: unknown = {}) => dispatch(method, input, { kind: 'local' });
  };
  const error = (r: Result<unknown>) => (r.ok ? undefined : r.error);

  it('status, then picking the organisation: the role and the organisation', async () => {
    const call = await appOf('ada@acme.test');
    const before = okValue<{ signedIn: boolean; organization: unknown; organizations: unknown[] }>(
      await call('team.status'),
    );
    expect(before).toMatchObject({ signedIn: true, organization: null, offline: false });
    expect(before.organizations).toEqual([{ id: orgId, name: 'Acme', role: 'admin' }]);
    expect(error(await call('team.members.list'))).toMatchObject({ code: 'FAILED_PRECONDITION' });
    expect(okValue(await call('team.pickOrganization', { organizationId: orgId }))).toEqual({
      id: orgId,
      name: 'Acme',
      role: 'admin',
    });
    expect(
      error(await call('team.pickOrganization', { organizationId: 'org_other' })),
    ).toMatchObject({ code: 'NOT_FOUND', message: expect.stringMatching(/not a member/) });
    const after = okValue<{ organization: unknown; queue: unknown }>(await call('team.status'));
    expect(after).toMatchObject({
      organization: { id: orgId, role: 'admin' },
      queue: { pending: 0, failed: 0 },
      signIn: { pending: false, url: null, error: null },
    });
  });

  it('members: listed with roles; an admin changes a role; a viewer forcing it is refused by the server', async () => {
    const admin = await appOf('ada@acme.test');
    okValue(await admin('team.pickOrganization', { organizationId: orgId }));
    const members = okValue<{ items: { email: string; role: string }[] }>(
      await admin('team.members.list'),
    );
    expect(members.items.map((m) => `${m.email}:${m.role}`).sort()).toEqual([
      'ada@acme.test:admin',
      'mem@acme.test:member',
      'owner@acme.test:owner',
      'vic@acme.test:viewer',
    ]);
    okValue(
      await admin('team.members.setRole', { userId: userIds['mem@acme.test'], role: 'viewer' }),
    );
    okValue(
      await admin('team.members.setRole', { userId: userIds['mem@acme.test'], role: 'member' }),
    );
    // Only owners touch owners: the server says so.
    expect(
      error(
        await admin('team.members.setRole', { userId: userIds['owner@acme.test'], role: 'admin' }),
      ),
    ).toMatchObject({ code: 'PERMISSION_DENIED', message: expect.stringMatching(/owner/) });

    const viewer = await appOf('vic@acme.test');
    okValue(await viewer('team.pickOrganization', { organizationId: orgId }));
    // The local dispatcher lets the person at the machine through; the server is the one
    // that decides, and refuses with a message that names the role.
    const forced = error(
      await viewer('team.members.setRole', { userId: userIds['mem@acme.test'], role: 'admin' }),
    );
    expect(forced).toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/Your role \(viewer\) may not do this/),
    });
    expect(error(await viewer('team.apiKeys.list'))).toMatchObject({ code: 'PERMISSION_DENIED' });
    expect(error(await viewer('team.audit.search', {}))).toMatchObject({
      code: 'PERMISSION_DENIED',
    });
  });

  it('API keys: created (the key shown once), listed without it, revoked; the audit log records it', async () => {
    const admin = await appOf('ada@acme.test');
    okValue(await admin('team.pickOrganization', { organizationId: orgId }));
    const created = okValue<{ id: string; key: string; prefix: string }>(
      await admin('team.apiKeys.create', { name: 'ci', scopes: ['backups:read'] }),
    );
    expect(created.key).toMatch(/^fbk_/);
    const listed = okValue<{ apiKeys: { id: string; key?: string; revokedAt: string | null }[] }>(
      await admin('team.apiKeys.list'),
    );
    const mine = listed.apiKeys.find((k) => k.id === created.id)!;
    expect(mine).toBeDefined();
    expect(JSON.stringify(listed)).not.toContain(created.key);
    okValue(await admin('team.apiKeys.revoke', { id: created.id }));
    const audit = okValue<{ entries: { event: string; resource: { id: string } }[] }>(
      await admin('team.audit.search', { event: 'apikey.revoked' }),
    );
    expect(audit.entries.map((e) => e.resource.id)).toContain(created.id);
    expect(error(await admin('team.apiKeys.create', { name: '', scopes: [] }))).toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('sessions: listed (this one current) and one revoked; then sign out', async () => {
    const member = await appOf('mem@acme.test');
    const other = await server.signIn('mem@acme.test');
    const { sessions } = okValue<{ sessions: { id: string; current: boolean }[] }>(
      await member('team.sessions.list'),
    );
    expect(sessions.filter((s) => s.current)).toHaveLength(1);
    expect(sessions.map((s) => s.id)).toContain(other.sessionId);
    okValue(await member('team.sessions.revoke', { sessionId: other.sessionId }));
    const after = okValue<{ sessions: { id: string }[] }>(await member('team.sessions.list'));
    expect(after.sessions.map((s) => s.id)).not.toContain(other.sessionId);
    expect(okValue(await member('team.signOut'))).toEqual({
      wasSignedIn: true,
      serverReached: true,
      queued: 0,
    });
    expect(okValue(await member('team.status'))).toMatchObject({ signedIn: false });
    expect(error(await member('team.members.list'))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/Not signed in/),
    });
  });

  it('projects.create and backups.record: sent when the server answers, queued when it does not', async () => {
    const owner = await appOf('owner@acme.test');
    okValue(await owner('team.pickOrganization', { organizationId: orgId }));
    const sent = okValue<{ queued: boolean; result: { id: string } }>(
      await owner('team.projects.create', { name: 'Web', firebaseProjectId: 'acme-web' }),
    );
    expect(sent).toMatchObject({ queued: false, result: { id: expect.stringMatching(/^prj_/) } });
    await server.down();
    try {
      const queued = okValue<{ queued: boolean }>(
        await owner('team.backups.record', { projectId: sent.result.id, sizeBytes: 77 }),
      );
      expect(queued).toMatchObject({ queued: true, reason: { code: 'UNAVAILABLE' } });
      const { items } = okValue<{ items: { action: string; state: string; mine: boolean }[] }>(
        await owner('team.queue.list'),
      );
      expect(items).toEqual([
        expect.objectContaining({ action: 'backups.record', state: 'pending', mine: true }),
      ]);
      expect(okValue(await owner('team.status'))).toMatchObject({
        offline: true,
        queue: { pending: 1 },
        organization: { role: 'owner' },
      });
      // Read while offline: the projects list as last fetched (the create above cached none
      // yet, so this is the network error saying nothing was synced, or the cached list).
      const projects = await owner('team.list', { list: 'projects' });
      if (projects.ok) expect(projects.value).toMatchObject({ offline: true });
      else expect(projects.error).toMatchObject({ code: 'UNAVAILABLE' });
    } finally {
      await server.up();
    }
    const synced = okValue<{ delivered: number; remaining: number }>(await owner('team.sync'));
    expect(synced).toMatchObject({ delivered: 1, remaining: 0 });
    const backups = okValue<{ items: { sizeBytes: number }[] }>(
      await owner('team.list', { list: 'backups' }),
    );
    expect(backups.items.filter((b) => b.sizeBytes === 77)).toHaveLength(1);
  });

  it('sign-in end to end: the system browser signs in at the local OpenID provider, the app is signed in', async () => {
    const google = await startGoogleServer();
    try {
      const opened: string[] = [];
      // The desktop's openUrl (shell.openExternal): here a person at a browser.
      const call = await appOf(null, {
        openUrl: async (url) => {
          opened.push(url);
          await browseAs(url, 'newcomer@acme.test');
        },
      });
      const started = okValue<{ url: string; opened: boolean }>(
        await call('team.signIn', { serverUrl: google.base }),
      );
      expect(started.opened).toBe(true);
      expect(started.url).toBe(opened[0]);
      expect(started.url.startsWith(`${google.base}/api/v1/auth/google/start?`)).toBe(true);
      let status = okValue<{ signedIn: boolean }>(await call('team.status'));
      for (let i = 0; i < 100 && !status.signedIn; i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = okValue(await call('team.status'));
      }
      expect(status).toMatchObject({
        signedIn: true,
        serverUrl: google.base,
        user: { email: 'newcomer@acme.test' },
        organization: null,
        signIn: { pending: false, error: null },
      });
    } finally {
      await google.close();
    }
  });

  it('sign-in in the web mode: the address comes back to open; signing out cancels the wait', async () => {
    // A server that offers Google sign-in: the flow checks that before handing an address out.
    const google = await startGoogleServer();
    try {
      const call = await appOf(null);
      const started = okValue<{ url: string; opened: boolean }>(
        await call('team.signIn', { serverUrl: google.base }),
      );
      expect(started.opened).toBe(false);
      const url = new URL(started.url);
      expect(url.origin + url.pathname).toBe(`${google.base}/api/v1/auth/google/start`);
      expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
      expect(okValue(await call('team.status'))).toMatchObject({ signIn: { pending: true } });
      okValue(await call('team.signOut'));
      expect(okValue(await call('team.status'))).toMatchObject({
        signedIn: false,
        signIn: { pending: false, url: null },
      });
    } finally {
      await google.close();
    }
  });

  it('sign-in: the flow hands the address to open back, then stores the sign-in when it completes', async () => {
    let finish: (c: TeamCredentials) => void = () => undefined;
    const flow: BrowserSignIn = async ({ openUrl }) => {
      await openUrl(`${server.url}/api/v1/auth/google/start?x=1`);
      const credentials = await new Promise<TeamCredentials>((resolve) => (finish = resolve));
      return { step: 'signedIn', credentials };
    };
    const call = await appOf(null, { signIn: flow });
    expect(okValue(await call('team.signIn', { serverUrl: server.url }))).toEqual({
      step: 'browser',
      url: `${server.url}/api/v1/auth/google/start?x=1`,
      opened: false,
    });
    expect(okValue(await call('team.status'))).toMatchObject({
      signedIn: false,
      signIn: { pending: true },
    });
    finish(await server.signIn('vic@acme.test', orgId));
    // The flow stores the sign-in as it completes (in the background of team.signIn).
    for (let i = 0; i < 100; i++) {
      if (okValue<{ signedIn: boolean }>(await call('team.status')).signedIn) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(okValue(await call('team.status'))).toMatchObject({
      signedIn: true,
      user: { email: 'vic@acme.test' },
      organization: { id: orgId, role: 'viewer' },
      signIn: { pending: false },
    });
  });
});
