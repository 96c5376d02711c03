import { Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/server/db/db.js';
import {
  BACKENDS,
  openTestDb,
  POSTGRES_MISSING,
  unavailable,
  useServers,
  type Backend,
} from './harness.js';

/**
 * What a request costs the database (issue #9's read p99 and "+2 ms" audit budgets,
 * docs/benchmarks.md): the statements of an authenticated call are pipelined, so a list
 * read waits for PostgreSQL twice (BEGIN + RLS settings + membership; the page with its
 * COMMIT, ADR 0027) and an audited write waits no more often than the same write without
 * its audit entry. And the pipelined audit INSERT keeps its guarantee: if it fails, the action it
 * records does not commit.
 */

/**
 * Counts round trips on node-postgres, per transaction: statements written on a
 * connection in the same turn of the event loop travel together and are answered
 * together, so each turn that sends is one wait; so is a send after an answer arrived
 * (a fast answer can come back within the turn's window). The audit linker's own transactions
 * (after the answer, on a timer) are left out.
 */
function countRoundTrips() {
  const original = pg.Client.prototype.query;
  const socketProto = Socket.prototype as unknown as {
    _writeGeneric: (...a: unknown[]) => unknown;
  };
  const originalWrite = socketProto._writeGeneric;
  interface TxTrips {
    trips: number;
    /** Socket writes made on the connection while this transaction was its current one. */
    writes: number;
    linker: boolean;
  }
  const transactions: TxTrips[] = [];
  const current = new WeakMap<pg.Client, TxTrips>();
  const onSocket = new WeakMap<object, TxTrips>();
  const sending = new WeakSet<pg.Client>();
  const listening = new WeakSet<object>();
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    // A prepared statement comes as { name, text, values }.
    const first = args[0] as string | { text?: string };
    const text = typeof first === 'string' ? first : (first.text ?? '');
    if (text === 'BEGIN') {
      const started = { trips: 0, writes: 0, linker: false };
      transactions.push(started);
      current.set(this, started);
      onSocket.set(
        (this as unknown as { connection: { stream: object } }).connection.stream,
        started,
      );
    }
    const tx = current.get(this);
    if (tx !== undefined) {
      if (text.includes('audit_link')) tx.linker = true;
      const stream = (this as unknown as { connection: { stream: NodeJS.EventEmitter } }).connection
        .stream;
      if (!listening.has(stream)) {
        listening.add(stream);
        // An answer arrived: what is sent next waited for it, a new round trip, even within
        // the same turn of the event loop.
        stream.on('data', () => sending.delete(this));
      }
      if (!sending.has(this)) {
        sending.add(this);
        tx.trips++;
        setImmediate(() => sending.delete(this));
      }
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
  socketProto._writeGeneric = function (this: object, ...args: unknown[]) {
    const tx = onSocket.get(this);
    if (tx !== undefined) tx.writes++;
    return originalWrite.apply(this, args);
  };
  const measure = async (work: () => Promise<unknown>) => {
    const from = transactions.length;
    await work();
    const measured = transactions.slice(from).filter((tx) => !tx.linker);
    return {
      trips: measured.reduce((sum, tx) => sum + tx.trips, 0),
      writes: measured.reduce((sum, tx) => sum + tx.writes, 0),
    };
  };
  return {
    async during(work: () => Promise<unknown>): Promise<number> {
      return (await measure(work)).trips;
    },
    /** Round trips and socket writes of the transactions `work` ran (the linker's left out). */
    measure,
    restore: () => {
      pg.Client.prototype.query = original;
      socketProto._writeGeneric = originalWrite;
    },
  };
}

describe.skipIf(unavailable('postgres'))('round trips per request on PostgreSQL', () => {
  const servers = useServers('postgres');
  let counter: ReturnType<typeof countRoundTrips>;
  beforeAll(() => {
    counter = countRoundTrips();
  });
  afterAll(() => counter.restore());

  async function seeded(auditWrites = true) {
    // A stopped clock: the session checked at sign-in stays in the cache (SESSION_CACHE_MS),
    // so the calls measured are the route's own transaction only.
    const frozen = new Date();
    const server = await servers.start({}, { auditWrites, now: () => frozen });
    const owner = await server.login(`owner-${Math.random()}@acme.test`);
    const orgId = await server.createOrg(owner);
    const base = `/api/v1/organizations/${orgId}`;
    const project = await server.call(owner, 'POST', `${base}/projects`, {
      name: 'Main',
      firebaseProjectId: 'main-project',
    });
    const projectId = project.json<{ id: string }>().id;
    for (let i = 0; i < 3; i++)
      await server.call(owner, 'POST', `${base}/backups`, { projectId, sizeBytes: i });
    return { server, owner, base, projectId };
  }

  it('a read waits twice: opening with the membership check, then its last statement with the COMMIT', async () => {
    const { server, owner, base, projectId } = await seeded();
    const reads = ['/backups', '/projects', '/runs', '', `/projects/${projectId}`, '/invitations'];
    for (const path of reads) {
      const trips = await counter.during(async () => {
        const res = await server.call(owner, 'GET', `${base}${path}`);
        expect(res.statusCode, res.body).toBe(200);
      });
      expect(trips, `GET …${path}`).toBe(2);
    }
  });

  it("a read of the caller's own rows (no organisation) waits once: BEGIN, the read and COMMIT together", async () => {
    const { server, owner } = await seeded();
    for (const path of ['/api/v1/me', '/api/v1/me/sessions']) {
      const trips = await counter.during(async () => {
        const res = await server.call(owner, 'GET', path);
        expect(res.statusCode, res.body).toBe(200);
      });
      expect(trips, `GET ${path}`).toBe(1);
    }
  });

  it('a read with an API key waits four times: its key check and its route, each opening then last statement with the COMMIT', async () => {
    const { server, owner, base } = await seeded();
    const created = await server.call(owner, 'POST', `${base}/api-keys`, {
      name: 'reader',
      scopes: ['backups:read'],
    });
    expect(created.statusCode, created.body).toBe(201);
    const orgId = base.split('/').pop()!;
    const trips = await counter.during(async () => {
      const res = await server.call(
        created.json<{ key: string }>().key,
        'GET',
        `${base}/backups`,
        undefined,
        {
          'x-organization-id': orgId,
        },
      );
      expect(res.statusCode, res.body).toBe(200);
    });
    expect(trips).toBe(4);
  });

  it('a list read writes to PostgreSQL once per round trip: statements sent together leave together', async () => {
    const { server, owner, base } = await seeded();
    for (const path of ['/backups?limit=200', '/projects', '']) {
      const cost = await counter.measure(async () => {
        const res = await server.call(owner, 'GET', `${base}${path}`);
        expect(res.statusCode, res.body).toBe(200);
      });
      // Opening (BEGIN, RLS settings, membership check), the page with the COMMIT: 2, not 5.
      expect(cost, `GET …${path}`).toEqual({ trips: 2, writes: 2 });
    }
  });

  it('the audit entry adds no round trip to the write it records', async () => {
    const cost = async (auditWrites: boolean) => {
      const { server, owner, base, projectId } = await seeded(auditWrites);
      const trips = await counter.during(async () => {
        const res = await server.call(owner, 'POST', `${base}/backups`, { projectId });
        expect(res.statusCode, res.body).toBe(201);
      });
      await server.close();
      return trips;
    };
    const without = await cost(false);
    expect(await cost(true)).toBe(without);
  });
});

function atomicity(backend: Backend) {
  const servers = useServers(backend);
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db.close());

  it('a statement sent without waiting that fails fails its transaction: nothing of it commits', async () => {
    const org = 'org_sendfails';
    await db.system(async (tx) => {
      await tx.query(`INSERT INTO users (id, email) VALUES ('usr_x', 'x@acme.test')`);
      await tx.query(`INSERT INTO organisations (id, name, created_by) VALUES ($1, 'X', 'usr_x')`, [
        org,
      ]);
    });
    await expect(
      db.withOrg(org, async (tx) => {
        await tx.query(
          `INSERT INTO projects (id, organisation_id, name, firebase_project_id) VALUES ('prj_sent', $1, 'P', 'p-sent')`,
          [org],
        );
        tx.send('INSERT INTO no_such_table VALUES (1)');
      }),
    ).rejects.toThrow(/no_such_table/);
    // A query after the failed statement reports the statement's own error.
    await expect(
      db.withOrg(org, async (tx) => {
        tx.send('INSERT INTO no_such_table VALUES (1)');
        await tx.query('SELECT 1');
      }),
    ).rejects.toThrow(/no_such_table/);
    const rows = await db.withOrg(org, (tx) => tx.query(`SELECT id FROM projects`));
    expect(rows).toEqual([]);
  });

  it('an audit entry that cannot be written takes its action with it (500, nothing created)', async () => {
    const server = await servers.start();
    const owner = await server.login('owner@acme.test');
    const orgId = await server.createOrg(owner);
    const base = `/api/v1/organizations/${orgId}`;
    // The audit log refuses this one entry, as a full disk or a broken trigger would.
    await server.db.system(async (tx) => {
      await tx.query(`CREATE OR REPLACE FUNCTION refuse_entry() RETURNS trigger AS $$
        BEGIN
          IF NEW.entry LIKE '%Poisoned%' THEN RAISE EXCEPTION 'audit log refused the entry'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql`);
      await tx.query(
        'CREATE TRIGGER refuse_entry BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_entry()',
      );
    });
    const refused = await server.call(owner, 'POST', `${base}/projects`, {
      name: 'Poisoned',
      firebaseProjectId: 'poisoned-one',
    });
    expect(refused.statusCode).toBe(500);
    const ok = await server.call(owner, 'POST', `${base}/projects`, {
      name: 'Fine',
      firebaseProjectId: 'fine-one',
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const list = await server.call(owner, 'GET', `${base}/projects`);
    expect(list.json<{ projects: { name: string }[] }>().projects.map((p) => p.name)).toEqual([
      'Fine',
    ]);
  });
}

describe.each(BACKENDS)('the pipelined audit write on %s', (backend) => {
  if (unavailable(backend)) it.skip(POSTGRES_MISSING, () => undefined);
  else atomicity(backend);
});
