import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TeamClient } from '../../src/engine/team/client.js';
import {
  loadTeamCredentials,
  saveTeamCredentials,
  type TeamCredentials,
} from '../../src/engine/team/credentials.js';
import type { FileSecretStore } from '../../src/engine/secrets/secret-store.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/** A port nothing listens on (free a moment ago). */
const closedPort = () => freePort();

/** The app's client of the organisation server, against a real one over HTTP. */
describe('TeamClient against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', { 'vic@acme.test': 'viewer' }));
  });
  afterAll(() => server?.close());

  /** A fresh sign-in of `email` in its own secret store, and a client over it counting refreshes. */
  const member = async (email: string, patch: Partial<TeamCredentials> = {}) => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-team-client-'));
    const credentials = { ...(await server.signIn(email, orgId)), ...patch };
    const secrets = await signedInSecrets(home, credentials);
    const refreshes: string[] = [];
    const client = new TeamClient({
      secrets,
      fetch: async (input, init) => {
        if (String(input).endsWith('/api/v1/auth/refresh')) refreshes.push(String(init?.body));
        return fetch(input, init);
      },
    });
    return { client, secrets, credentials, refreshes };
  };

  const stored = async (secrets: FileSecretStore) => (await loadTeamCredentials(secrets))!;

  it('calls /api/v1 as the member', async () => {
    const { client } = await member('owner@acme.test');
    const me = await client.request<{ organizations: { id: string; role: string }[] }>(
      'GET',
      '/me',
    );
    expect(me.body.organizations).toEqual([expect.objectContaining({ id: orgId, role: 'owner' })]);
  });

  it('refreshes shortly before expiry, once for many concurrent calls, and keeps the new pair', async () => {
    // The access token "expires" in 10 s: within the 60 s margin.
    const { client, secrets, credentials, refreshes } = await member('owner@acme.test', {
      accessExpiresAt: Date.now() + 10_000,
    });
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => client.request('GET', `/organizations/${orgId}/members`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    // Two refreshes would have reused the first refresh token: the server revokes the
    // whole session on that, and later calls would fail.
    expect(refreshes).toHaveLength(1);
    const after = await stored(secrets);
    expect(after.refreshToken).not.toBe(credentials.refreshToken);
    expect(after.accessExpiresAt).toBeGreaterThan(Date.now() + 60_000);
    expect((await client.request('GET', '/me')).status).toBe(200);
  });

  it('on a 401 refreshes once and sends the call again', async () => {
    // A token the server cannot verify, though the app believes it is still good.
    const { client, refreshes } = await member('owner@acme.test', { accessToken: 'not-a-jwt' });
    expect((await client.request('GET', '/me')).status).toBe(200);
    expect(refreshes).toHaveLength(1);
  });

  it('uses a pair another front end refreshed instead of refreshing (which would be a reuse)', async () => {
    const { client, secrets, credentials, refreshes } = await member('owner@acme.test', {
      accessToken: 'not-a-jwt',
    });
    // Another process (the CLI beside the desktop app) refreshes and stores the new pair.
    const other = new TeamClient({ secrets });
    await saveTeamCredentials(secrets, { ...credentials, accessExpiresAt: 0 });
    await other.request('GET', '/me');
    // This client read the old pair before; it reads the store afresh on each call, so it
    // uses the new pair and never presents the rotated refresh token (a reuse) again.
    expect((await client.request('GET', '/me')).status).toBe(200);
    expect(refreshes).toHaveLength(0);
    expect((await stored(secrets)).refreshToken).not.toBe(credentials.refreshToken);
  });

  it('a refused refresh (reuse) signs out cleanly with a message that says to sign in, and no token', async () => {
    const { client, secrets, credentials } = await member('owner@acme.test', {
      accessToken: 'not-a-jwt',
    });
    // Someone used this refresh token already (rotated it away): presenting it again is a
    // reuse, and the server revokes the session.
    const rotated = await fetch(`${server.url}/api/v1/auth/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refreshToken: credentials.refreshToken }),
    });
    expect(rotated.status).toBe(200);
    const error = await client.request('GET', '/me').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED' });
    const message = (error as Error).message;
    expect(message).toMatch(/has ended.*Sign in again/s);
    expect(message).not.toContain(credentials.refreshToken);
    expect(await loadTeamCredentials(secrets)).toBeUndefined();
    await expect(client.request('GET', '/me')).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/^Not signed in/),
    });
  });

  it("maps the server's refusal to its AppError: a viewer may not add a project", async () => {
    const { client } = await member('vic@acme.test');
    await expect(
      client.request('POST', `/organizations/${orgId}/projects`, {
        body: { name: 'X', firebaseProjectId: 'acme-x1' },
      }),
    ).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/Your role \(viewer\) may not do this/),
    });
  });

  it('an unreachable server is UNAVAILABLE, naming the server and what to do, with no token', async () => {
    const { credentials } = await member('owner@acme.test');
    const home = await mkdtemp(path.join(tmpdir(), 'fb-team-client-'));
    const secrets = await signedInSecrets(home, {
      ...credentials,
      serverUrl: `http://127.0.0.1:${await closedPort()}`,
    });
    const error = (await new TeamClient({ secrets })
      .request('GET', '/me')
      .catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({ code: 'UNAVAILABLE' });
    expect(error.message).toMatch(/127\.0\.0\.1:\d+ cannot be reached \(ECONNREFUSED\)/);
    expect(error.message).toMatch(/check its address and your connection, or ask your admin/);
    expect(error.message).not.toContain(credentials.accessToken);
  });

  it('signed out: every call says how to sign in', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-team-client-'));
    const { FileSecretStore } = await import('../../src/engine/secrets/secret-store.js');
    const client = new TeamClient({ secrets: new FileSecretStore(path.join(home, 's.json')) });
    await expect(client.request('GET', '/me')).rejects.toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/firebackup login --server/),
    });
  });
});
