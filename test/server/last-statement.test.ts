import { Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Tx } from '../../src/server/db/db.js';
import { BACKENDS, openTestDb, POSTGRES_MISSING, unavailable, type Backend } from './harness.js';

/**
 * Tx.queryAndCommit (ADR 0027): a transaction's last statement leaves with its COMMIT, and
 * the transaction keeps every guarantee it had with a COMMIT of its own. Each test runs on
 * PGlite (no round trip to save, same API) and on PostgreSQL (pipelined, one round trip).
 */
function lastStatement(backend: Backend) {
  let db: Db;
  const org = 'org_last';
  beforeAll(async () => {
    db = await openTestDb(backend);
    await db.system(async (tx) => {
      await tx.query(`INSERT INTO users (id, email) VALUES ('usr_l', 'l@acme.test')`);
      await tx.query(`INSERT INTO organisations (id, name, created_by) VALUES ($1, 'L', 'usr_l')`, [
        org,
      ]);
      // Checked only at COMMIT: a transaction whose statements all succeed and whose
      // COMMIT fails (a dangling parent below).
      await tx.query(`CREATE TABLE deferred_check (
        id int PRIMARY KEY,
        parent int REFERENCES deferred_check (id) DEFERRABLE INITIALLY DEFERRED)`);
    });
  });
  afterAll(() => db.close());

  const insertProject = (tx: Tx, id: string) =>
    tx.query(
      `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ($1, $2, 'P', $1)`,
      [id, org],
    );
  const projectIds = async () =>
    (await db.withOrg(org, (tx) => tx.query<{ id: string }>('SELECT id FROM projects'))).map(
      (r) => r.id,
    );

  it('gives the last statement its rows and commits what the transaction did before it', async () => {
    const rows = await db.withOrg(org, async (tx) => {
      await insertProject(tx, 'prj_kept1');
      tx.send(
        `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ('prj_kept2', $1, 'P', 'prj_kept2')`,
        [org],
      );
      const last = await tx.queryAndCommit<{ id: string }>(
        `SELECT id FROM projects WHERE id LIKE 'prj_kept%' ORDER BY id`,
      );
      // Pure work on the rows after the last statement is fine.
      return last.map((r) => r.id.toUpperCase());
    });
    expect(rows).toEqual(['PRJ_KEPT1', 'PRJ_KEPT2']);
    expect(await projectIds()).toEqual(expect.arrayContaining(['prj_kept1', 'prj_kept2']));
  });

  it('a last statement that fails throws its own error, and nothing of the transaction commits', async () => {
    await expect(
      db.withOrg(org, async (tx) => {
        await insertProject(tx, 'prj_lastfails1');
        tx.send(
          `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ('prj_lastfails2', $1, 'P', 'x2')`,
          [org],
        );
        return tx.queryAndCommit('SELECT * FROM no_such_last_table');
      }),
    ).rejects.toThrow(/no_such_last_table/);
    expect(await projectIds()).not.toEqual(expect.arrayContaining(['prj_lastfails1']));
    expect(await projectIds()).not.toEqual(expect.arrayContaining(['prj_lastfails2']));
  });

  it('a statement sent before it that fails fails the transaction with its own error', async () => {
    await expect(
      db.withOrg(org, async (tx) => {
        await insertProject(tx, 'prj_sentfails');
        tx.send('INSERT INTO no_such_sent_table VALUES (1)');
        return tx.queryAndCommit('SELECT id FROM projects');
      }),
    ).rejects.toThrow(/no_such_sent_table/);
    expect(await projectIds()).not.toEqual(expect.arrayContaining(['prj_sentfails']));
  });

  it("the COMMIT's own answer is still checked: a COMMIT that fails fails the transaction", async () => {
    await expect(
      db.system(async (tx) => {
        tx.send('INSERT INTO deferred_check (id, parent) VALUES (1, 99)');
        return tx.queryAndCommit('SELECT count(*) FROM deferred_check');
      }),
    ).rejects.toThrow(/foreign key/);
    expect(await db.system((tx) => tx.query('SELECT id FROM deferred_check'))).toEqual([]);
  });

  it('any use of the transaction after its last statement throws instead of running outside it', async () => {
    const errors = await db.withOrg(org, async (tx) => {
      await tx.queryAndCommit('SELECT 1');
      const caught: string[] = [];
      await tx.query('SELECT 1').catch((e: Error) => caught.push(e.message));
      await tx.queryAndCommit('SELECT 1').catch((e: Error) => caught.push(e.message));
      try {
        tx.send(
          `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ('prj_late', $1, 'P', 'late')`,
          [org],
        );
      } catch (e) {
        caught.push((e as Error).message);
      }
      return caught;
    });
    expect(errors).toHaveLength(3);
    for (const message of errors) expect(message).toMatch(/after its last statement/);
    expect(await projectIds()).not.toEqual(expect.arrayContaining(['prj_late']));
  });

  it('a transaction that ended (its body returned) refuses statements a stray callback sends late', async () => {
    let kept: Tx | undefined;
    await db.withOrg(org, async (tx) => {
      kept = tx;
      await tx.query('SELECT 1');
    });
    await expect(kept!.query('SELECT 1')).rejects.toThrow(/after its last statement/);
  });

  it('after failed last statements the pool still serves: every client went back to it', async () => {
    // More failures than the pool holds clients (10): a client kept would hang this test.
    for (let i = 0; i < 12; i++)
      await expect(
        db.withOrg(org, (tx) => tx.queryAndCommit('SELECT * FROM no_such_pool_table')),
      ).rejects.toThrow(/no_such_pool_table/);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => db.system((tx) => tx.queryAndCommit('SELECT 1 AS n'))),
    );
    expect(results.flat()).toHaveLength(12);
  });
}

describe.each(BACKENDS)(
  'a transaction whose last statement carries its COMMIT, on %s',
  (backend) => {
    if (unavailable(backend)) it.skip(POSTGRES_MISSING, () => undefined);
    else lastStatement(backend);
  },
);

describe.skipIf(unavailable('postgres'))('the last statement on PostgreSQL', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb('postgres');
  });
  afterAll(() => db.close());

  /** The texts of the plain statements (BEGIN, COMMIT, ROLLBACK) `work` sends. */
  async function plainStatements(work: () => Promise<unknown>): Promise<string[]> {
    const original = pg.Client.prototype.query;
    const seen: string[] = [];
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      if (typeof args[0] === 'string' && /^(BEGIN|COMMIT|ROLLBACK)$/.test(args[0]))
        seen.push(args[0]);
      return (original as (...a: unknown[]) => unknown).apply(this, args);
    } as typeof original;
    try {
      await work().catch(() => undefined);
    } finally {
      pg.Client.prototype.query = original;
    }
    return seen;
  }

  it('sends one COMMIT and no ROLLBACK when the last statement carried it, even when it failed', async () => {
    expect(await plainStatements(() => db.system((tx) => tx.queryAndCommit('SELECT 1')))).toEqual([
      'BEGIN',
      'COMMIT',
    ]);
    expect(
      await plainStatements(() => db.system((tx) => tx.queryAndCommit('SELECT * FROM nope_t'))),
    ).toEqual(['BEGIN', 'COMMIT']);
    // A body that fails before its last statement is rolled back, as before.
    expect(
      await plainStatements(() =>
        db.system(async (tx) => {
          await tx.query('SELECT 1');
          throw new Error('the body gave up');
        }),
      ),
    ).toEqual(['BEGIN', 'ROLLBACK']);
  });

  it('the statement and its COMMIT leave in one socket write', async () => {
    const proto = Socket.prototype as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
    const original = proto._writeGeneric;
    let writes = 0;
    let counting = false;
    proto._writeGeneric = function (this: object, ...args: unknown[]) {
      if (counting) writes++;
      return original.apply(this, args);
    };
    try {
      await db.system(async (tx) => {
        await tx.query('SELECT 1');
        counting = true;
        await tx.queryAndCommit('SELECT 2');
        counting = false;
      });
    } finally {
      proto._writeGeneric = original;
    }
    expect(writes).toBe(1);
  });
});
