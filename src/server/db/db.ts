import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Writable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AppError } from '../../shared/errors.js';
import { APP_ROLE, MIGRATIONS } from './migrations.js';

/** The little of SQL the server needs, the same over PGlite and `pg`. */
export interface Tx {
  query<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /**
   * Sends a statement whose rows nobody reads (an audit entry) without waiting for its
   * answer: on PostgreSQL it travels with the transaction's next statement or its COMMIT,
   * so it costs no round trip of its own. It is still part of the transaction: if it
   * fails, the next query (or the commit) throws its error and nothing of the transaction
   * commits.
   */
  send(sql: string, params?: readonly unknown[]): void;
  /**
   * Runs the transaction's last statement and commits with it (ADR 0027): on PostgreSQL
   * the statement and the COMMIT leave together and are answered together, one round trip
   * instead of two, for a transaction that ends with a read. Its rows come back once the
   * COMMIT is answered. If the statement (or one sent before it) fails, that statement's
   * error is thrown and nothing of the transaction commits; a COMMIT that fails throws too.
   * Afterwards the transaction is over: the body may still shape the rows, but any
   * further query or send throws (it would run outside the transaction). On PostgreSQL it
   * is committed even if the body throws afterwards, so nothing after it may need to
   * roll it back. (On PGlite, where no round trip is saved, the transaction commits when
   * the body returns, as before.)
   */
  queryAndCommit<R extends object>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/** What a helper shared by reads and writes needs of a transaction: its query. */
export type Reader = Pick<Tx, 'query'>;

/**
 * `tx` as a Reader whose query is the transaction's last statement, sent with its COMMIT
 * (Tx.queryAndCommit): for a read route that ends with a helper it shares with writes,
 * which keep calling the helper with `tx` itself.
 */
export function lastRead(tx: Tx): Reader {
  return { query: (sql, params) => tx.queryAndCommit(sql, params) };
}

/** A statement sent with the transaction's opening (see Db.withOrg). */
export interface Statement {
  sql: string;
  params?: readonly unknown[];
}

export interface Db {
  /**
   * Runs `body` in a transaction as the RLS-bound role with `app.org_id` set: tenant
   * tables show and accept only that organisation's rows. `first`, when given, runs in
   * that context right after the set-up, in the same round trip on PostgreSQL (the
   * caller's membership check), and `body` gets its rows.
   */
  withOrg<T, F extends object = Record<string, unknown>>(
    orgId: string,
    body: (tx: Tx, first: F[]) => Promise<T>,
    first?: Statement,
  ): Promise<T>;
  /** A transaction with the server's own rights, for users, sessions and new organisations. */
  system<T>(body: (tx: Tx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** Which engine answers, for /readyz and the start-up line. */
  readonly kind: 'pglite' | 'postgres';
}

interface Raw {
  /**
   * A transaction whose `opening` statements are sent with BEGIN (one round trip on
   * PostgreSQL); `body` gets the rows of the last one.
   */
  transaction<T>(
    body: (tx: Tx, opened: object[]) => Promise<T>,
    opening?: readonly Statement[],
  ): Promise<T>;
  close(): Promise<void>;
}

/**
 * Statements sent and not awaited yet (Tx.send). Before anything reads an answer (a query,
 * the commit) they are awaited too, so the first failure is the one reported.
 */
class Sent {
  private pending: Promise<unknown>[] = [];

  add(answer: Promise<unknown>): void {
    // Awaited later (settle); handled now so a failure is never an unhandled rejection.
    answer.catch(() => undefined);
    this.pending.push(answer);
  }

  /**
   * Waits for everything sent before `answer`, in order, then for `answer`: the first
   * failure is thrown (after it, PostgreSQL refuses the rest as "transaction aborted").
   */
  async settle<T>(answer: Promise<T>): Promise<T> {
    const pending = this.pending;
    if (pending.length === 0) return answer;
    this.pending = [];
    answer.catch(() => undefined);
    for (const earlier of pending) await earlier;
    return answer;
  }
}

/**
 * Whether a transaction still takes statements: not once its last one was sent
 * (Tx.queryAndCommit), nor after its body returned. A statement then would run outside
 * the transaction (on PostgreSQL, on a connection another request may hold by then), so
 * it is refused with an error that names the mistake.
 */
class Open {
  private over = false;

  end(): void {
    this.over = true;
  }

  /** Throws when the transaction is over; `what` is the call refused. */
  check(what: string): void {
    if (this.over)
      throw new AppError(
        'INTERNAL',
        `Tx.${what} was called after its last statement (Tx.queryAndCommit) or after the transaction ended; send it before.`,
      );
  }

  /** `run` if the transaction is still open, else the refusal as a rejected promise. */
  run<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      this.check(what);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return run();
  }
}

/** Runs one statement on the transaction's connection and gives its rows. */
type Run = <R extends object>(sql: string, params?: readonly unknown[]) => Promise<R[]>;

/**
 * The Tx a transaction's body gets, the same over PGlite and PostgreSQL: `query` waits for
 * what was sent before it, `send` does not wait, `queryAndCommit` is the engine's own
 * `last`; all three are refused once the transaction is over (Open).
 */
function guardedTx(open: Open, sent: Sent, run: Run, last: Run): Tx {
  return {
    query: (sql, params) => open.run('query', () => sent.settle(run(sql, params))),
    send: (sql, params) => {
      open.check('send');
      sent.add(run(sql, params));
    },
    queryAndCommit: (sql, params) => open.run('queryAndCommit', () => last(sql, params)),
  };
}

function pgliteRaw(dataDir: string | undefined): Raw {
  if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true });
  const db = new PGlite(dataDir);
  return {
    transaction: (body, opening = []) =>
      db.transaction(async (raw) => {
        const sent = new Sent();
        const query = async <R extends object>(sql: string, params?: readonly unknown[]) =>
          (await raw.query<R>(sql, params as unknown[] | undefined)).rows;
        let opened: object[] = [];
        for (const statement of opening) opened = await query(statement.sql, statement.params);
        const open = new Open();
        // No round trip to save: the last statement runs, and the transaction commits when
        // the body returns (PGlite's transaction does).
        const tx = guardedTx(open, sent, query, (sql, params) => {
          open.end();
          return sent.settle(query(sql, params));
        });
        try {
          const result = await body(tx, opened);
          // Statements sent and not read yet commit with the rest, or fail it.
          await sent.settle(Promise.resolve());
          return result;
        } finally {
          open.end();
        }
      }),
    close: () => db.close(),
  };
}

const statementNames = new Map<string, string>();

/**
 * A statement with parameters is prepared once per connection under a name derived from
 * its text, then only bound and run: PostgreSQL parses and plans it once, not on every
 * request. Every statement's text is the server's own (values travel as parameters), so
 * the names are few. Plans still follow RLS: PostgreSQL re-plans one prepared under
 * another role, and after DDL on the tables it reads.
 */
function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `fb_${createHash('sha256').update(sql).digest('hex').slice(0, 24)}`;
    if (statementNames.size > 5000) statementNames.clear();
    statementNames.set(sql, name);
  }
  return name;
}

/**
 * Writes `send`'s statement into the connection's socket corked until the end of this
 * event-loop turn (process.nextTick runs after the turn's promise callbacks), so the
 * statements a transaction sends together — BEGIN, its RLS settings and the membership
 * check; an audit entry and the COMMIT — leave in one socket write instead of one each.
 * node-postgres writes a plain statement (BEGIN, COMMIT) straight away and corks only each
 * prepared one by itself; on loopback every write also runs the receiving side's network
 * stack, the largest cost of a read in the profile (docs/benchmarks.md). Corks nest, so
 * node-postgres's own still work; the uncork always comes, error or not.
 */
function onePacket<T>(client: pg.PoolClient, send: () => Promise<T>): Promise<T> {
  const socket = (client as unknown as { connection: { stream: Writable } }).connection.stream;
  if (!corked.has(socket)) {
    corked.add(socket);
    socket.cork();
    process.nextTick(() => {
      corked.delete(socket);
      socket.uncork();
    });
  }
  return send();
}
const corked = new WeakSet<Writable>();

/**
 * node-postgres in pipeline mode: statements are written without waiting for the answers
 * of the ones before (the protocol answers them in order), so a transaction's opening
 * (BEGIN, its RLS settings, the membership check) is one round trip, and a Tx.send
 * statement (the audit entry) rides with the COMMIT. Each statement still runs, and fails,
 * in order: after a failure PostgreSQL refuses the rest of the transaction and turns its
 * COMMIT into a rollback, which is checked below.
 */
function postgresRaw(url: string, ssl: false | ConnectionOptions): Raw {
  const pool = new pg.Pool({
    connectionString: url,
    ssl,
    max: 10,
    pipeline: true,
  } as pg.PoolConfig);
  return {
    async transaction(body, opening = []) {
      const client = await pool.connect();
      const sent = new Sent();
      const query = <R extends object>(sql: string, params?: readonly unknown[]) =>
        onePacket(client, () =>
          client.query(
            params === undefined || params.length === 0
              ? sql
              : { name: statementName(sql), text: sql, values: params as unknown[] },
          ),
        ).then((r) => r.rows as R[]);
      const open = new Open();
      /**
       * The COMMIT, once sent (by Tx.queryAndCommit or after the body), settled when it is
       * answered: rejected with the first failure among the statements before it, or when
       * PostgreSQL did not commit. A failed statement that nobody awaited still makes
       * PostgreSQL turn the COMMIT into a ROLLBACK, hence the check of its answer.
       */
      let committing: Promise<void> | undefined;
      const commit = (): Promise<void> => {
        open.end();
        const answer = onePacket(client, () => client.query('COMMIT'));
        committing = sent.settle(answer).then((done) => {
          if (done.command !== 'COMMIT')
            throw new Error(`The transaction was rolled back (${done.command}).`);
        });
        // Awaited by whoever sent it and by the wrapper; handled now, never unhandled.
        committing.catch(() => undefined);
        return committing;
      };
      try {
        sent.add(query('BEGIN'));
        let last: Promise<object[]> | undefined;
        for (const statement of opening) {
          if (last !== undefined) sent.add(last);
          last = query(statement.sql, statement.params);
        }
        // Without an opening, BEGIN's answer is awaited with the body's first statement.
        const opened = last === undefined ? [] : await sent.settle(last);
        const result = await body(
          guardedTx(
            open,
            sent,
            query,
            async <R extends object>(sql: string, params?: readonly unknown[]) => {
              // Written in this turn of the event loop, so onePacket sends both at once.
              const rows = query<R>(sql, params);
              sent.add(rows);
              const committed = commit();
              // The statement's own failure first (or an earlier sent one's: sent.add
              // queued it before the COMMIT, which settle awaits in order).
              await committed;
              return rows;
            },
          ),
          opened,
        );
        await (committing ?? commit());
        return result;
      } catch (error) {
        // A COMMIT already sent ends the transaction either way (PostgreSQL turns it into
        // a ROLLBACK after a failure); wait for its answer so the client goes back idle.
        if (committing === undefined) await client.query('ROLLBACK').catch(() => undefined);
        else await committing.catch(() => undefined);
        throw error;
      } finally {
        open.end();
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
    withOrg: <T, F extends object>(
      orgId: string,
      body: (tx: Tx, first: F[]) => Promise<T>,
      first?: Statement,
    ) =>
      raw.transaction(
        (tx, opened) => body(tx, first === undefined ? [] : (opened as F[])),
        [
          // SET LOCAL ROLE is what set_config('role', …, true) does.
          {
            sql: `SELECT set_config('role', $2, true), set_config('app.org_id', $1, true)`,
            params: [orgId, APP_ROLE],
          },
          ...(first !== undefined ? [first] : []),
        ],
      ),
    close: () => raw.close(),
  };
}
