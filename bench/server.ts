/**
 * `npm run bench server` (issue #9): authenticated read routes of the organisation server
 * at a fixed 500 requests/s (autocannon), p99 < 25 ms, one instance on PostgreSQL (a
 * throwaway cluster with PostgreSQL's default durability; PGlite when PostgreSQL is not
 * installed, and the table says so); and what the audit write adds at p99 to the request
 * it records (< 2 ms): the same POST /backups on an instance with and without audit writes,
 * alternating in one run so both see the same machine.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { postgresBin, startPostgres, type RunningService } from '../test/setup/pg-redis.js';
import { ROOT, type BenchLine } from './lib.js';
import { SERVER_NODE_FLAGS } from '../src/server/node-flags.js';

interface Seed {
  statsUrl: string;
  url: string;
  urlNoAudit: string;
  token: string;
  base: string;
  projectId: string;
  database: string;
}

interface Run {
  p50: number;
  p99: number;
  rps: number;
  bad: number;
  total: number;
  /** Per request: database round trips, server CPU, its GC pauses, PostgreSQL backend CPU. */
  cost?: Cost;
}

interface Cost {
  roundTrips: number;
  cpuMs: number;
  gcMs: number;
  pgCpuMs: number;
}

async function stats(url: string): Promise<Cost> {
  return (await (await fetch(url)).json()) as Cost;
}

/** `load`, with what each request cost the server and PostgreSQL (from the child's counters). */
async function measured(statsUrl: string, ...args: Parameters<typeof load>): Promise<Run> {
  const before = await stats(statsUrl);
  const run = await load(...args);
  const after = await stats(statsUrl);
  const n = Math.max(1, run.total);
  const per = (k: keyof Cost) => (after[k] - before[k]) / n;
  return {
    ...run,
    cost: {
      roundTrips: per('roundTrips'),
      cpuMs: per('cpuMs'),
      gcMs: per('gcMs'),
      pgCpuMs: per('pgCpuMs'),
    },
  };
}

function costText(c: Cost | undefined): string {
  return c === undefined
    ? ''
    : `; per request ${c.roundTrips.toFixed(2)} round trips, server CPU ${c.cpuMs.toFixed(3)} ms (GC ${c.gcMs.toFixed(3)} ms), PostgreSQL CPU ${c.pgCpuMs.toFixed(3)} ms`;
}

async function load(
  url: string,
  request: { method: 'GET' | 'POST'; path: string; body?: string },
  token: string,
  rate: number,
  seconds: number,
): Promise<Run> {
  const result = await autocannon({
    url,
    connections: 16,
    duration: seconds,
    overallRate: rate,
    requests: [
      {
        method: request.method,
        path: request.path,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(request.body !== undefined ? { body: request.body } : {}),
      },
    ],
  });
  return {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.average,
    bad: result.non2xx + result.errors + result.timeouts,
    total: result.requests.total,
  };
}

/** Seconds per read route (10; BENCH_SERVER_SECONDS for quick profiling runs). */
const SECONDS = Number(process.env.BENCH_SERVER_SECONDS ?? 10);
/** Alternating rounds of the audit comparison (POST with and without its audit write). */
const ROUNDS = 5;

async function startChild(databaseUrl: string | undefined) {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server process (e.g. --cpu-prof).
  const extra = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  // The flags the server is deployed with (deploy/Dockerfile), then any extra ones.
  const flags = [...SERVER_NODE_FLAGS, ...extra];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', 'bench/server-child.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...(databaseUrl ? { BENCH_DATABASE_URL: databaseUrl } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const seed = await new Promise<Seed>((resolve, reject) => {
    lines.once('line', (line) => resolve(JSON.parse(line) as Seed));
    child.once('exit', (code) => reject(new Error(`bench server exited ${code}`)));
  });
  return { child, seed };
}

export async function serverLines(): Promise<BenchLine[]> {
  let postgres: RunningService | undefined;
  if (postgresBin() !== undefined) postgres = await startPostgres({ durable: true });
  else console.warn('!! PostgreSQL is not installed: the server bench runs on PGlite.');
  const { child, seed } = await startChild(postgres?.url);
  try {
    const db = seed.database === 'postgres' ? 'PostgreSQL 15' : 'PGlite (no PostgreSQL here)';
    const read = (path: string) => ({ method: 'GET' as const, path: `${seed.base}${path}` });
    // Warm up (JIT, connection pool, caches) before measuring.
    await load(seed.url, read('/projects'), seed.token, 300, 3);
    const reads: Array<[string, Run]> = [];
    for (const [label, path] of [
      ['GET …/projects (21 rows, one page)', '/projects'],
      ['GET …/backups (first page: 50 of 200 rows)', '/backups'],
      ['GET …/backups?limit=200 (the largest page)', '/backups?limit=200'],
      ['GET …/runs (first page: 50 of 100 rows)', '/runs'],
      ['GET …/organizations/:id', ''],
    ] as const)
      reads.push([
        label,
        await measured(seed.statsUrl, seed.url, read(path), seed.token, 500, SECONDS),
      ]);

    const write = {
      method: 'POST' as const,
      path: `${seed.base}/backups`,
      body: JSON.stringify({ projectId: seed.projectId, sizeBytes: 1 }),
    };
    const withAudit: Run[] = [];
    const without: Run[] = [];
    // Five alternating rounds; each side's median p99 counts, so one window that hit a
    // stall (a checkpoint, another process) does not decide the comparison as a mean would.
    for (let round = 0; round < ROUNDS; round++) {
      withAudit.push(await measured(seed.statsUrl, seed.url, write, seed.token, 200, 5));
      without.push(await measured(seed.statsUrl, seed.urlNoAudit, write, seed.token, 200, 5));
    }
    const mean = (runs: Run[], k: 'p50' | 'p99') =>
      runs.reduce((s, r) => s + r[k], 0) / runs.length;
    const median = (runs: Run[], k: 'p50' | 'p99') => {
      const sorted = runs.map((r) => r[k]).sort((a, b) => a - b);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    const bad = [...reads.map(([, r]) => r), ...withAudit, ...without].reduce(
      (s, r) => s + r.bad,
      0,
    );
    const added = median(withAudit, 'p99') - median(without, 'p99');
    for (const [label, r] of reads)
      console.log(
        `${label}: p50 ${r.p50} ms p99 ${r.p99} ms at ${r.rps.toFixed(0)} req/s${costText(r.cost)}`,
      );
    for (const [label, runs] of [
      ['with audit', withAudit],
      ['without audit', without],
    ] as const)
      for (const r of runs)
        console.log(`POST …/backups ${label}: p99 ${r.p99} ms${costText(r.cost)}`);
    console.log(
      `POST …/backups p99 with audit ${withAudit.map((r) => r.p99).join('/')} ms, without ${without.map((r) => r.p99).join('/')} ms; p50 ${mean(withAudit, 'p50').toFixed(2)} vs ${mean(without, 'p50').toFixed(2)} ms`,
    );
    return [
      ...reads.map(([label, r]) => ({
        name: `${label} p99 at 500 req/s, one instance on ${db}`,
        value: r.p99,
        unit: 'ms',
        target: '< 25 ms',
        pass: r.p99 < 25 && Math.abs(r.rps - 500) < 50,
      })),
      {
        name: `POST …/backups p99 with its audit write (median of ${ROUNDS} × 5 s at 200 req/s)`,
        value: median(withAudit, 'p99'),
        unit: 'ms',
      },
      {
        name: 'POST …/backups p99 without the audit write (alternating, same run)',
        value: median(without, 'p99'),
        unit: 'ms',
      },
      {
        name: 'audit write adds at p99',
        value: added,
        unit: 'ms',
        target: '< 2 ms',
        pass: added < 2,
      },
      {
        name: 'failed or non-2xx requests during the bench',
        value: bad,
        unit: '',
        target: '0',
        pass: bad === 0,
      },
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await postgres?.stop();
  }
}
