import { spawn } from 'node:child_process';
import { openDb, type Db } from '../../src/server/db/db.js';
import type { TeamCredentials } from '../../src/engine/team/credentials.js';
import {
  saveTeamCredentials,
  teamSignInStore,
  type TeamSignInStore,
} from '../../src/engine/team/credentials.js';
import type { Role } from '../../src/shared/rbac.js';
import { startTestServer, type TestServer } from '../server/harness.js';
import { waitFor } from './spawn-cli.js';

/**
 * A real organisation server for the app's side of team sync: in-process, listening on
 * 127.0.0.1 (the app talks HTTP to it like to a deployed one), on an in-memory PGlite with
 * the test sign-in (`test:<email>`). It can be stopped and started again on the same
 * address and database, which is how tests make it unreachable and bring it back.
 */
export class TeamTestServer {
  private server: TestServer | undefined;
  private port = 0;

  private constructor(readonly db: Db) {}

  static async start(env: Record<string, string> = {}): Promise<TeamTestServer> {
    const s = new TeamTestServer(await openDb({}));
    await s.up(env);
    return s;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The running instance (for direct calls: inject, createOrg, addMember). */
  get app(): TestServer {
    if (this.server === undefined) throw new Error('the team test server is stopped');
    return this.server;
  }

  /** (Re)starts on the same port and database. */
  async up(env: Record<string, string> = {}): Promise<void> {
    if (this.server !== undefined) return;
    const server = await startTestServer(env, {}, this.db);
    await server.app.listen({ host: '127.0.0.1', port: this.port });
    this.port = (server.app.server.address() as { port: number }).port;
    this.server = server;
  }

  /** Stops listening: the app then finds the server unreachable (connection refused). */
  async down(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  async close(): Promise<void> {
    await this.down();
    await this.db.close();
  }

  /** Signs `email` in over HTTP as the app would after the browser flow: their credentials. */
  async signIn(email: string, organizationId: string | null = null): Promise<TeamCredentials> {
    const res = await fetch(`${this.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential: `test:${email}` }),
    });
    if (res.status !== 200) throw new Error(`sign-in failed: ${await res.text()}`);
    const body = (await res.json()) as {
      accessToken: string;
      refreshToken: string;
      expiresIn: number;
      sessionId: string;
      user: { id: string; email: string };
    };
    return {
      serverUrl: this.url,
      accessToken: body.accessToken,
      refreshToken: body.refreshToken,
      accessExpiresAt: Date.now() + body.expiresIn * 1000,
      sessionId: body.sessionId,
      user: body.user,
      organizationId,
    };
  }

  /** An organisation owned by `ownerEmail`, with the others added in their roles. */
  async organisation(
    ownerEmail: string,
    others: Record<string, Role> = {},
  ): Promise<{ orgId: string; userIds: Record<string, string> }> {
    const owner = await this.app.login(ownerEmail);
    const orgId = await this.app.createOrg(owner);
    const userIds: Record<string, string> = { [ownerEmail]: owner.userId };
    for (const [email, role] of Object.entries(others)) {
      const member = await this.app.login(email);
      await this.app.addMember(orgId, member.userId, role);
      userIds[email] = member.userId;
    }
    return { orgId, userIds };
  }

  /**
   * `email` writes to the organisation's shared catalog directly (as another member's app
   * would): POST `route` below the organisation; the created row.
   */
  async publish(
    email: string,
    orgId: string,
    route: string,
    body: unknown,
  ): Promise<{ id: string } & Record<string, unknown>> {
    const session = await this.app.login(email);
    const res = await this.app.call(
      session,
      'POST',
      `/api/v1/organizations/${orgId}${route}`,
      body,
    );
    if (res.statusCode !== 201) throw new Error(`POST ${route} failed: ${res.body}`);
    return res.json();
  }
}

/**
 * The machine's shared team sign-in in `home` (as FIREBACKUP_HOME: team-session.json,
 * what the CLI, the web mode and the desktop app read), holding `credentials`.
 */
export async function signedInSecrets(
  home: string,
  credentials: TeamCredentials,
): Promise<TeamSignInStore> {
  const secrets = teamSignInStore(home);
  await saveTeamCredentials(secrets, credentials);
  return secrets;
}

/**
 * Runs a client script (from source) that queues something and prints one JSON line,
 * then SIGKILLs it (no exit handler, no flush) and answers that line: how the offline
 * queue's "a killed process loses nothing" tests make their process.
 */
export async function killedAfterFirstLine(script: string, args: string[]): Promise<unknown> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise((resolve) => child.on('exit', resolve));
  try {
    await waitFor(() => out.includes('\n'), 30_000, `${script} to queue`).catch(() => {
      throw new Error(`the client never queued: ${err}`);
    });
    return JSON.parse(out.slice(0, out.indexOf('\n')));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
