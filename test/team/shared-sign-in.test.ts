import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { TeamClient } from '../../src/engine/team/client.js';
import {
  loadTeamCredentials,
  saveTeamCredentials,
  teamSignInStore,
} from '../../src/engine/team/credentials.js';
import { createDesktopSecretStore } from '../../src/main/secrets.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { okValue } from '../helpers/api-result.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { fakeSafeStorage } from '../helpers/fake-safe-storage.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { runCli } from '../helpers/run-cli.js';
import { spawnCli, waitFor } from '../helpers/spawn-cli.js';

/**
 * One team sign-in per machine (ADR 0017): `firebackup login` in a terminal, and the
 * desktop app's engine (its handlers over its keychain SecretStore, as src/main/index.ts
 * builds them) sees the member signed in; signing out in either signs both out. Two front
 * ends refreshing the same pair at once make one refresh, not a reuse.
 */
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
let google: GoogleServer;
let sandbox: ReturnType<typeof makeCliSandbox>;
const runtimes: Runtime[] = [];
beforeAll(async () => {
  google = await startGoogleServer();
  sandbox = makeCliSandbox('fb-shared-sign-in-', KEY);
});
afterAll(async () => {
  for (const r of runtimes) r.close();
  await google?.close();
});

const home = () => sandbox.env.FIREBACKUP_HOME!;

/** The desktop app's keychain store, as src/main/index.ts makes it. */
const desktopSecrets = () =>
  createDesktopSecretStore({
    file: path.join(home(), 'secrets.desktop.json'),
    safeStorage: fakeSafeStorage(),
    consent: { given: () => false, give: () => undefined },
    platform: 'linux',
  });

/** The desktop app's engine side: its contract handlers over its own SecretStore. */
function desktop() {
  const keyring = new Keyring(MasterKey.generate());
  const secrets = desktopSecrets();
  const runtime = createRuntime({ env: sandbox.env, keyring, secrets });
  runtimes.push(runtime);
  const dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, { env: sandbox.env, secrets }),
  );
  return (method: string, input: unknown = {}) => dispatch(method, input, { kind: 'local' });
}

const PRINTED = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/google\/start\?\S+)$/m;

/** `firebackup login --no-open` in a child, signed in as `who` in the "browser". */
async function cliLogin(who: string) {
  const child = spawnCli(['login', '--server', google.base, '--no-open'], sandbox.env);
  await waitFor(() => PRINTED.test(child.stderr()), 30_000, 'the sign-in address');
  await browseAs(PRINTED.exec(child.stderr())![1]!, who);
  const { code } = await child.exited;
  expect(code, child.stderr()).toBe(0);
}

describe('one team sign-in for the CLI, the web mode and the desktop app', () => {
  it('signed in with the CLI: the desktop sees it; signed out in the desktop: the CLI is signed out too', async () => {
    await cliLogin('ada@acme.test');
    // Owner-only, like every secret the CLI keeps.
    expect((await stat(path.join(home(), 'team-session.json'))).mode & 0o077).toBe(0);
    const app = desktop();
    expect(okValue(await app('team.status'))).toMatchObject({
      signedIn: true,
      serverUrl: google.base,
      user: { email: 'ada@acme.test' },
    });
    okValue(await app('team.signOut'));
    const whoami = await runCli(['whoami'], sandbox.env);
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toMatch(/Not signed in to an organisation server/);
  }, 90_000);

  it('signed out with the CLI: the running desktop app is signed out too', async () => {
    const app = desktop();
    await cliLogin('bea@acme.test');
    expect(okValue(await app('team.status'))).toMatchObject({
      signedIn: true,
      user: { email: 'bea@acme.test' },
    });
    const logout = await runCli(['logout'], sandbox.env);
    expect(logout.stdout).toMatch(/Signed out: the session on .* was ended/);
    expect(okValue(await app('team.status'))).toMatchObject({ signedIn: false, user: null });
  }, 90_000);

  it('a sign-in the desktop kept in its keychain before is moved to the shared one once, and the CLI sees it', async () => {
    await cliLogin('cy@acme.test');
    const credentials = (await loadTeamCredentials(teamSignInStore(home())))!;
    // As an older desktop app left it: in its keychain store only.
    await saveTeamCredentials(desktopSecrets(), credentials);
    await rm(path.join(home(), 'team-session.json'));
    const app = desktop();
    expect(okValue(await app('team.status'))).toMatchObject({
      signedIn: true,
      user: { email: 'cy@acme.test' },
    });
    expect(await loadTeamCredentials(desktopSecrets())).toBeUndefined();
    const whoami = await runCli(['whoami'], sandbox.env);
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toMatch(/User: +cy@acme\.test/);
  }, 90_000);

  it('two front ends refreshing the same pair at once: one refresh (under the lock), both answered, the session kept', async () => {
    const store = teamSignInStore(home());
    const before = (await loadTeamCredentials(store))!;
    await saveTeamCredentials(store, { ...before, accessExpiresAt: Date.now() - 1000 });
    let refreshes = 0;
    const counting: typeof fetch = async (input, init) => {
      if (String(input).endsWith('/api/v1/auth/refresh')) refreshes++;
      return fetch(input, init);
    };
    // Two clients, each with its own in-memory single flight, as in two processes.
    const cli = new TeamClient({ secrets: teamSignInStore(home()), fetch: counting });
    const app = new TeamClient({ secrets: teamSignInStore(home()), fetch: counting });
    const answers = await Promise.all([
      cli.request('GET', '/me'),
      app.request('GET', '/me'),
      cli.request('GET', '/me/sessions'),
      app.request('GET', '/me/sessions'),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(refreshes).toBe(1);
    const after = (await loadTeamCredentials(store))!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.sessionId).toBe(before.sessionId);
    // The session survived (no reuse was detected): the CLI still answers.
    const whoami = await runCli(['whoami'], sandbox.env);
    expect(whoami.code, whoami.stderr).toBe(0);
  }, 60_000);
});
