import { mkdirSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { APP_ROLE, MIGRATIONS } from './migrations.js';

/** The little of SQL the server needs, the same over PGlite and `pg`. */
export interface Tx {
  query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

export interface Db {
  /**
   * Runs `body` in a transaction as the RLS-bound role with `app.org_id` set: tenant
   * tables show and accept only that organisation's rows.
   */
  withOrg<T>(orgId: string, body: (tx: Tx) => Promise<T>): Promise<T>;
  /** A transaction with the server's own rights, for users, sessions and new organisations. */
  system<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Which engine answers, for /readyz and the start-up line. */
  readonly kind: 'pglite' | 'postgres';
}

interface Raw {
  transaction<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function pgliteRaw(dataDir: string | undefined): Raw {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const db = new PGlite(dataDir);
  return {
    transaction: (body) =>
      db.transaction((tx) =>
        body({
          query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
            (await tx.query<R>(sql, params as unknown[] | undefined)).rows,
        }),
      ),
    close: () => db.close(),
  };
}

function postgresRaw(url: string, ssl: false | ConnectionOptions): Raw {
  const pool = new pg.Pool({ connectionString: url, ssl, max: 10 });
  return {
    async transaction(body) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await body({
          query: async <R extends object>(sql: string, params?: readonly unknown[]) =>
            (await client.query(sql, params as unknown[] | undefined)).rows as R[],
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

async function migrate(raw: Raw): Promise<void> {
  await raw.transaction((tx) =>
    tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`),
  );
  for (const migration of MIGRATIONS) {
    await raw.transaction(async (tx) => {
      // Several instances may start at once: one applies, the others wait and skip.
      await tx.query('SELECT pg_advisory_xact_lock(4242001)');
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [
        migration.version,
      ]);
      if (done.length > 0) return;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
    });
  }
}

/**
 * Splits a migration into statements (the extended protocol takes one at a time),
 * keeping $$-quoted bodies whole and dropping -- comments.
 */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let inDollar: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    if (inDollar === null && sql.startsWith('--', i)) {
      // Comments may hold semicolons; drop them up to the end of the line.
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
      current += '\n';
      continue;
    }
    const tag = /^\$[a-z]*\$/.exec(sql.slice(i))?.[0];
    if (tag !== undefined) {
      if (inDollar === null) inDollar = tag;
      else if (inDollar === tag) inDollar = null;
      current += tag;
      i += tag.length - 1;
      continue;
    }
    if (sql[i] === ';' && inDollar === null) {
      if (current.trim() !== '') out.push(current.trim());
      current = '';
    } else current += sql[i];
  }
  if (current.trim() !== '') out.push(current.trim());
  return out;
}

/**
 * Opens PostgreSQL when `databaseUrl` is set (TLS options from db/ssl.ts in `ssl`), else
 * PGlite in `dataDir` (in memory if unset).
 */
export async function openDb(options: {
  databaseUrl?: string;
  ssl?: false | ConnectionOptions;
  dataDir?: string;
}): Promise<Db> {
  const raw =
    options.databaseUrl !== undefined
      ? postgresRaw(options.databaseUrl, options.ssl ?? false)
      : pgliteRaw(options.dataDir);
  try {
    await migrate(raw);
  } catch (error) {
    await raw.close().catch(() => undefined);
    throw new AppError(
      'UNAVAILABLE',
      `The server database could not be opened or migrated: ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    kind: options.databaseUrl !== undefined ? 'postgres' : 'pglite',
    system: (body) => raw.transaction(body),
    withOrg: (orgId, body) =>
      raw.transaction(async (tx) => {
        // One round trip for both: SET LOCAL ROLE is what set_config('role', …, true) does.
        await tx.query(`SELECT set_config('role', $2, true), set_config('app.org_id', $1, true)`, [
          orgId,
          APP_ROLE,
        ]);
        return body(tx);
      }),
    close: () => raw.close(),
  };
}
