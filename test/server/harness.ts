import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { buildApp, type AppOptions } from '../../src/server/app.js';
import { loadConfig, type ServerConfig } from '../../src/server/config.js';
import { openDb, type Db } from '../../src/server/db/db.js';
import type { Role } from '../../src/shared/rbac.js';
import { withDatabase } from '../setup/pg-redis.js';

export const SECRET = 'x'.repeat(48);

/** The databases the server runs on; every server test runs on each (describe.each). */
export type Backend = 'pglite' | 'postgres';
export const BACKENDS: readonly Backend[] = ['pglite', 'postgres'];

/** The migrated template database of test/setup/pg-redis.ts, '' when PostgreSQL is missing. */
const postgresTemplate = inject('postgresUrl');

/** True when `backend` cannot run here (PostgreSQL missing locally; the setup said so loudly). */
/**
 * Why a PostgreSQL variant is skipped on a developer's machine (the PGlite variant still
 * runs). With CI=true a missing PostgreSQL fails the run instead (test/setup/pg-redis.ts).
 */
export const POSTGRES_MISSING =
  'SKIPPED: PostgreSQL 15 is not installed here (apt-get install postgresql-15 to run this; CI always runs it)';

export function unavailable(backend: Backend): boolean {
  return backend === 'postgres' && postgresTemplate === '';
}

/**
 * A fresh, migrated database: PGlite in memory, or a new PostgreSQL database copied from
 * the run's migrated template (CREATE DATABASE … TEMPLATE takes milliseconds; migrating
 * each one would not).
 */
export async function openTestDb(backend: Backend): Promise<Db> {
  if (backend === 'pglite') return openDb({});
  const name = `fbt_${randomBytes(6).toString('hex')}`;
  const template = new URL(postgresTemplate).pathname.slice(1);
  const admin = new pg.Client({ connectionString: withDatabase(postgresTemplate, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await admin.end();
  }
  return openDb({ databaseUrl: withDatabase(postgresTemplate, name) });
}

/**
 * A server with the test sign-in: the credential `test:<email>` is vouched for as that
 * email; anything else is refused. On `db` when given (several servers may share one
 * database, as instances behind a load balancer do; the caller closes it), else on a
 * fresh in-memory PGlite that close() ends.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  extra: Partial<AppOptions> = {},
  shared?: Db,
  ownsDb = shared === undefined,
): Promise<TestServer> {
  const config = loadConfig({ JWT_SECRET: SECRET, RATE_LIMIT_ENABLED: 'false', ...env });
  const db = shared ?? (await openDb({}));
  const app = await buildApp({
    config,
    db,
    identityVerifier: async (credential) => {
      if (!credential.startsWith('test:')) throw new Error('credential refused');
      return { email: credential.slice(5) };
    },
    ...extra,
  });
  return new TestServer(app, db, config, ownsDb);
}

/** A server on a fresh test database of `backend` (`server.db`); close() ends both. */
export async function startTestServerOn(backend: Backend): Promise<TestServer> {
  return startTestServer({}, {}, await openTestDb(backend), true);
}

export interface Session {
  userId: string;
  accessToken: string;
  refreshToken: string;
}

export class TestServer {
  constructor(
    readonly app: FastifyInstance,
    readonly db: Db,
    readonly config: ServerConfig,
    private readonly ownsDb = true,
  ) {}

  async login(email: string): Promise<Session> {
    const res = await this.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { credential: `test:${email}` },
    });
    if (res.statusCode !== 200) throw new Error(`login failed: ${res.body}`);
    const body = res.json<{ accessToken: string; refreshToken: string; user: { id: string } }>();
    return { userId: body.user.id, accessToken: body.accessToken, refreshToken: body.refreshToken };
  }

  async createOrg(owner: Session, name = 'Acme'): Promise<string> {
    const res = await this.call(owner, 'POST', '/api/v1/organizations', { name });
    if (res.statusCode !== 201) throw new Error(`create org failed: ${res.body}`);
    return res.json<{ id: string }>().id;
  }

  /** Adds a member directly (the invitation flow has its own tests in invitations.test.ts). */
  async addMember(orgId: string, userId: string, role: Role): Promise<void> {
    await this.db.withOrg(orgId, (tx) =>
      tx.query('INSERT INTO memberships (organisation_id, user_id, role) VALUES ($1, $2, $3)', [
        orgId,
        userId,
        role,
      ]),
    );
  }

  call(
    who: Session | string | null,
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const token = who === null ? undefined : typeof who === 'string' ? who : who.accessToken;
    return this.app.inject({
      method,
      url,
      ...(payload !== undefined ? { payload: payload as object } : {}),
      headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });
  }

  /**
   * A write of `who` below `base` that must succeed (the test's data set-up): its answer's
   * `id` and `key` (empty for a 204), or the test fails with the answer's body.
   */
  writer(who: Session, base: string) {
    return async (method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown) => {
      const res = await this.call(who, method, `${base}${path}`, body);
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeLessThan(300);
      return res.statusCode === 204 ? { id: '', key: '' } : res.json<{ id: string; key: string }>();
    };
  }

  async close(): Promise<void> {
    await this.app.close();
    if (this.ownsDb) await this.db.close();
  }
}

/**
 * For a describe block on `backend`: one database for its tests (servers are cheap, a
 * database is not), and start(), whose server is closed after each test.
 */
export function useServers(backend: Backend) {
  let db: Db;
  let current: TestServer | undefined;
  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db.close());
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
  return {
    start: async (env: Record<string, string> = {}, extra: Partial<AppOptions> = {}) =>
      (current = await startTestServer(env, extra, db)),
  };
}
