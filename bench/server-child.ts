/**
 * The organisation server for `npm run bench server`, in its own process so the load
 * generator does not share its event loop. Two instances of the app on one database: one
 * as `firebackup server` runs it, one without audit writes (to measure what they add).
 * The bench starts two such processes and loads the audited instance of one and the
 * unaudited instance of the other at the same time, swapping each round, so neither the
 * process nor the moment favours a side. The first (BENCH_SEED=true) seeds the database.
 * Prints one JSON line with the addresses (and the seeded session), then serves until killed.
 */
import { createServer } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import pg from 'pg';
import { buildApp } from '../src/server/app.js';
import { loadConfig } from '../src/server/config.js';
import { processCpuMs } from './lib.js';
import { openDb } from '../src/server/db/db.js';

// What a request costs, read by the bench around each load: database round trips (every
// statement node-postgres sends is one), this process's CPU time, GC pauses, and the CPU
// time of the PostgreSQL backends serving this process's connections.
// Statements node-postgres writes in one turn of the event loop travel (pipelined) and are
// answered together: each turn that sends on a connection is one round trip (test/server/round-trips.test.ts).
let roundTrips = 0;
const sending = new WeakSet<pg.Client>();
const clientQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  if (!sending.has(this)) {
    sending.add(this);
    roundTrips++;
    setImmediate(() => sending.delete(this));
  }
  return (clientQuery as (...a: unknown[]) => unknown).apply(this, args);
} as typeof clientQuery;
// Where a request's time goes, for the audit comparison: each COMMIT's round trip (for an
// audited write it carries the audit INSERT, ADR 0019) and each wait for a pooled
// connection, since the bench's last look. The linker's own COMMITs are kept apart.
const waits = { commitMs: [] as number[], poolMs: [] as number[], linkerCommitMs: [] as number[] };
const linking = new WeakSet<pg.Client>();
const timedQuery = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text;
  if (text?.startsWith('SELECT audit_link') === true) linking.add(this);
  const result = (timedQuery as (...a: unknown[]) => unknown).apply(this, args);
  if (text === 'COMMIT' && result instanceof Promise) {
    const into = linking.has(this) ? waits.linkerCommitMs : waits.commitMs;
    linking.delete(this);
    const started = performance.now();
    void result.then(() => into.push(performance.now() - started)).catch(() => undefined);
  }
  return result;
} as typeof timedQuery;
const poolConnect = pg.Pool.prototype.connect;
// How often a transaction found no idle connection, and how many new ones the pool opened
// (a PostgreSQL backend started while the request waits; node-postgres closes connections
// idle for 10 s, so a pool that grew in a burst shrinks again).
const poolCounts = { noIdle: 0, opened: 0 };
const watched = new WeakSet<pg.Pool>();
pg.Pool.prototype.connect = function (this: pg.Pool, ...args: unknown[]) {
  if (!watched.has(this)) {
    watched.add(this);
    this.on('connect', () => poolCounts.opened++);
  }
  if (this.idleCount === 0) poolCounts.noIdle++;
  const started = performance.now();
  const result = (poolConnect as (...a: unknown[]) => unknown).apply(this, args);
  if (result instanceof Promise)
    void result.then(() => waits.poolMs.push(performance.now() - started)).catch(() => undefined);
  return result;
} as typeof poolConnect;
let gcMs = 0;
/** The longest single GC pause since the bench's last look: can GC explain a p99? */
let gcMaxMs = 0;
/** Its kind: a scavenge of the young generation, a mark-compact of the whole heap, … */
let gcMaxKind = '';
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMs += entry.duration;
    if (entry.duration > gcMaxMs) {
      gcMaxMs = entry.duration;
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
      gcMaxKind = GC_KINDS[kind] ?? `kind ${kind}`;
    }
  }
}).observe({ entryTypes: ['gc'] });
// This process's event loop: how late it ran, p99 and worst, since the bench's last look.
// A stall here (GC, a long task) holds every request behind it before the server-side
// timing above even starts (onRequest runs only when the loop gets to the request).
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();

const databaseUrl = process.env.BENCH_DATABASE_URL;
const db = await openDb(databaseUrl ? { databaseUrl } : {});
const config = loadConfig({
  JWT_SECRET: 'b'.repeat(64),
  // Limits on, as in production, with a budget the load never reaches.
  RATE_LIMIT_ENABLED: 'true',
  RATE_LIMIT_MAX: '1000000000',
});
const verifier = async (credential: string) => ({ email: credential });
const audited = await buildApp({ config, db, identityVerifier: verifier });
const unaudited = await buildApp({ config, db, identityVerifier: verifier, auditWrites: false });

// Server-side time of each request, from its arrival (onRequest) until its answer is
// written (onResponse): a view of the latency that the load generator's own delays and
// the kernel's queues cannot reach (the audit comparison's POSTs, the steady reads' GETs;
// the bench loads one kind at a time). A bench hook only; the server itself has none.
const servedMs = { audited: [] as number[], unaudited: [] as number[] };
function timeRequests(instance: FastifyInstance, into: keyof typeof servedMs): void {
  instance.addHook('onResponse', async (_request, reply) => {
    servedMs[into].push(reply.elapsedTime);
  });
}
timeRequests(audited, 'audited');
timeRequests(unaudited, 'unaudited');
const [url, urlNoAudit] = await Promise.all(
  [audited, unaudited].map((app) => app.listen({ host: '127.0.0.1', port: 0 })),
);

const json = async (res: Response) => {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, string>;
};
async function seed() {
  const login = await json(
    await fetch(`${url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ credential: 'bench@acme.test' }),
    }),
  );
  const auth = { authorization: `Bearer ${login.accessToken}`, 'content-type': 'application/json' };
  const post = async (path: string, body: object) =>
    json(
      await fetch(`${url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) }),
    );
  const org = await post('/api/v1/organizations', { name: 'Bench' });
  const base = `/api/v1/organizations/${org.id}`;
  const project = await post(`${base}/projects`, { name: 'Main', firebaseProjectId: 'bench-main' });
  for (let i = 0; i < 20; i++)
    await post(`${base}/projects`, { name: `P${i}`, firebaseProjectId: `bench-p${i}` });
  for (let i = 0; i < 200; i++)
    await post(`${base}/backups`, { projectId: project.id, sizeBytes: 1000 + i, documentCount: i });
  // The run history (issue #9's shared catalog): 100 finished runs reported by the app.
  for (let i = 0; i < 100; i++)
    await post(`${base}/runs`, {
      projectId: project.id,
      status: 'finished',
      documentCount: i,
      bytes: 1000 + i,
      backupId: `bkp_bench_${i}`,
    });
  return { token: login.accessToken, base, projectId: project.id };
}

// The CPU each of our PostgreSQL backends has used, as last read: a backend that has
// since exited (node-postgres closes connections idle for 10 s) keeps its last reading,
// so the total never goes backwards.
const backendCpuMs = new Map<number, number>();
const stats = createServer((_request, response) => {
  void (async () => {
    const trips = roundTrips; // before this handler's own query
    if (databaseUrl !== undefined) {
      // Ours are the pool's connections: the bench starts each server process with its
      // own PGAPPNAME on a throwaway cluster.
      const rows = await db.system((tx) =>
        tx.query<{ pid: number }>(
          `SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend'
             AND application_name = current_setting('application_name')`,
        ),
      );
      for (const row of rows) if (!backendCpuMs.has(row.pid)) backendCpuMs.set(row.pid, 0);
    }
    const cpu = process.cpuUsage();
    let pgCpuMs = 0;
    for (const [pid, last] of backendCpuMs) {
      const now = processCpuMs(pid) ?? last;
      backendCpuMs.set(pid, now);
      pgCpuMs += now;
    }
    // The request timings since the last call (the bench calls before and after each load).
    const served = { ...servedMs };
    servedMs.audited = [];
    servedMs.unaudited = [];
    const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
    loopDelay.reset();
    const longestGc = gcMaxMs;
    const longestGcKind = gcMaxKind;
    gcMaxMs = 0;
    const waited = { ...waits, ...poolCounts };
    poolCounts.noIdle = 0;
    poolCounts.opened = 0;
    waits.commitMs = [];
    waits.poolMs = [];
    waits.linkerCommitMs = [];
    response.end(
      JSON.stringify({
        roundTrips: trips,
        cpuMs: (cpu.user + cpu.system) / 1000,
        gcMs,
        gcMaxMs: longestGc,
        gcMaxKind: longestGcKind,
        pgCpuMs,
        servedMs: served,
        loopDelayMs: loop,
        ...waited,
      }),
    );
  })();
});
await new Promise<void>((resolve) => stats.listen(0, '127.0.0.1', resolve));
const statsUrl = `http://127.0.0.1:${(stats.address() as { port: number }).port}/`;

console.log(
  JSON.stringify({
    statsUrl,
    url,
    urlNoAudit,
    database: db.kind,
    ...(process.env.BENCH_SEED === 'true' ? await seed() : {}),
  }),
);
process.on('SIGTERM', () => {
  void Promise.all([audited.close(), unaudited.close()])
    .then(() => db.close())
    .then(() => process.exit(0));
});
