import { existsSync, readFileSync } from 'node:fs';
import { rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSecretStore } from '../../src/engine/secrets/secret-store.js';
import { loadTeamCredentials, saveTeamCredentials } from '../../src/engine/team/credentials.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { startGoogleServer, type GoogleServer } from '../helpers/google-server.js';
import { browseAs } from '../helpers/oidc-provider.js';
import { runCli } from '../helpers/run-cli.js';
import { spawnCli, waitFor } from '../helpers/spawn-cli.js';

/**
 * `firebackup login --no-open` as a child process against the real server with Google
 * sign-in pointed at a local OpenID provider: the test reads the printed address and
 * completes the provider's login as the person would in a browser; then `whoami` and
 * `logout` (in-process) on the sign-in the child saved.
 */
const KEY = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
let google: GoogleServer;
let sandbox: ReturnType<typeof makeCliSandbox>;
beforeAll(async () => {
  google = await startGoogleServer();
  sandbox = makeCliSandbox('fb-login-', KEY);
});
afterAll(async () => {
  await google?.close();
  if (sandbox) await rm(sandbox.dir, { recursive: true, force: true });
});

const secretsFile = () => path.join(sandbox.env.FIREBACKUP_HOME!, 'team-session.json');
const saved = () => loadTeamCredentials(new FileSecretStore(secretsFile()));

const PRINTED = /^ {2}(http:\/\/127\.0\.0\.1:\d+\/api\/v1\/auth\/google\/start\?\S+)$/m;

/**
 * Runs `login` in a child and signs in as `who` in the "browser" at the address `address`
 * finds (by default the one `--no-open` prints); the child's output.
 */
async function login(
  who: string,
  extra: string[] = [],
  options: { env?: NodeJS.ProcessEnv; address?: (stderr: string) => string | undefined } = {},
) {
  const address = options.address ?? ((stderr: string) => PRINTED.exec(stderr)?.[1]);
  const args = ['login', '--server', google.base, ...(options.address ? [] : ['--no-open'])];
  const child = spawnCli([...args, ...extra], { ...sandbox.env, ...options.env });
  await waitFor(() => address(child.stderr()) !== undefined, 30_000, 'the sign-in address');
  const page = await browseAs(address(child.stderr())!, who);
  const { code } = await child.exited;
  return { code, page, stdout: child.stdout(), stderr: child.stderr() };
}

describe('firebackup login / whoami / logout', () => {
  const who = 'ada@acme.test';

  it('login --no-open prints the address; the browser ends on "close this tab"; the sign-in is saved owner-only', async () => {
    const run = await login(who);
    expect(run.page.status).toBe(200);
    expect(run.page.body).toMatch(/You can close this tab/);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`Signed in to ${google.base} as ${who}; you are in no organisation yet`),
    );
    expect((await stat(secretsFile())).mode & 0o077).toBe(0);
    expect(await saved()).toMatchObject({ serverUrl: google.base, user: { email: who } });
  }, 60_000);

  it('whoami asks the server: user, no organisation yet, one session', async () => {
    const run = await runCli(['whoami'], sandbox.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`Server: +${google.base}`));
    expect(run.stdout).toMatch(new RegExp(`User: +${who} \\(usr_`));
    expect(run.stdout).toMatch(/Organisation: +none \(you are in no organisation yet\)/);
    expect(run.stdout).toMatch(/Sessions: +1 open/);
  });

  it('login --org picks the organisation; the session it replaces is ended; whoami shows organisation, role, sessions', async () => {
    const first = (await saved())!;
    const created = await fetch(`${google.base}/api/v1/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Acme' }),
    });
    const { id } = (await created.json()) as { id: string };
    // A second organisation, so the pick is --org's and not "the only one".
    await fetch(`${google.base}/api/v1/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${first.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Other' }),
    });
    const run = await login(who, ['--org', id]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(`organisation Acme (${id}), role owner`);
    expect(run.stderr).toMatch(`Your previous sign-in (${google.base} as ${who}) was ended.`);
    const old = await fetch(`${google.base}/api/v1/me`, {
      headers: { authorization: `Bearer ${first.accessToken}` },
    });
    expect(old.status).toBe(401);
    const whoami = await runCli(['whoami', '--json'], sandbox.env);
    expect(whoami.json()).toMatchObject({
      server: google.base,
      user: { email: who },
      organization: { id, name: 'Acme', role: 'owner' },
      sessions: 1,
    });
  }, 60_000);

  it('whoami refreshes a refused access token once and keeps the rotated pair', async () => {
    const before = (await saved())!;
    // As if the access token had expired: refused by the server, refreshed, asked again.
    await saveTeamCredentials(new FileSecretStore(secretsFile()), {
      ...before,
      accessToken: 'eyJ.expired',
    });
    const run = await runCli(['whoami'], sandbox.env);
    expect(run.code, run.stderr).toBe(0);
    const after = (await saved())!;
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(after.sessionId).toBe(before.sessionId);
    expect(after.organizationId).toBe(before.organizationId);
    // The rotated-away refresh token is dead (and presenting it would end the session).
    expect((await runCli(['whoami'], sandbox.env)).code).toBe(0);
  });

  it('login --org with an organisation the member is not in says so (exit 1)', async () => {
    const run = await login(who, ['--org', 'org_not_mine']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not a member of organisation org_not_mine \(yours: Acme/);
  }, 60_000);

  it('logout ends the session on the server and forgets it here; whoami then says to sign in', async () => {
    const before = (await saved())!;
    const run = await runCli(['logout'], sandbox.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(`Signed out: the session on ${google.base} was ended`);
    expect(await saved()).toBeUndefined();
    const me = await fetch(`${google.base}/api/v1/me`, {
      headers: { authorization: `Bearer ${before.accessToken}` },
    });
    expect(me.status).toBe(401);
    const whoami = await runCli(['whoami'], sandbox.env);
    expect(whoami.code).toBe(1);
    expect(whoami.stderr).toMatch(
      /Not signed in to an organisation server\. Sign in again with `firebackup login --server <url>`/,
    );
    const again = await runCli(['logout'], sandbox.env);
    expect(again.stdout).toMatch(/Not signed in; nothing to do/);
  });

  it('whoami on a session revoked elsewhere says it ended', async () => {
    await login(who);
    const credentials = (await saved())!;
    const revoked = await fetch(`${google.base}/api/v1/me/sessions/${credentials.sessionId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${credentials.accessToken}` },
    });
    expect(revoked.status).toBe(204);
    const run = await runCli(['whoami'], sandbox.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      `Your sign-in to ${google.base} has ended (signed out, revoked, expired, or its refresh token was used twice). Queued changes are kept. Sign in again with \`firebackup login --server ${google.base}\``,
    );
    // The ended sign-in is forgotten at once (for every front end), so there is nothing left to sign out.
    expect(await saved()).toBeUndefined();
    const out = await runCli(['logout'], sandbox.env);
    expect(out.stdout).toMatch(/Not signed in; nothing to do/);
  }, 60_000);

  it('opens the browser with the opener ($BROWSER here); an opener that fails falls back to printing the address', async () => {
    const opened = path.join(sandbox.dir, 'opened.txt');
    const browser = path.join(sandbox.dir, 'fake-browser');
    await writeFile(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, { mode: 0o755 });
    const run = await login(who, [], {
      env: { BROWSER: browser },
      address: () => (existsSync(opened) ? readFileSync(opened, 'utf8') || undefined : undefined),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/Opened your browser to sign in \(if it did not, go to http/);
    const fallback = await login(who, [], {
      env: { BROWSER: path.join(sandbox.dir, 'no-such-browser') },
      address: (stderr) => PRINTED.exec(stderr)?.[1],
    });
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stderr).toMatch(/Open this address in your browser to sign in/);
  }, 90_000);

  it('logout with the server unreachable still forgets the sign-in, and says the session stays valid', async () => {
    await saveTeamCredentials(new FileSecretStore(secretsFile()), {
      serverUrl: `http://127.0.0.1:${await freePort()}`,
      accessToken: 'eyJ.unused',
      refreshToken: 'fbr_unused',
      accessExpiresAt: Date.now() + 3_600_000,
      sessionId: 'ses_far',
      user: { id: 'usr_1', email: who },
      organizationId: null,
    });
    const run = await runCli(['logout'], sandbox.env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /sign-in was removed, but the server could not be told: The organisation server .* cannot be reached \(ECONNREFUSED\)/,
    );
    expect(run.stdout).toMatch(/stays valid until it expires/);
    expect(await saved()).toBeUndefined();
  });
});
