/**
 * Firestore backup and restore on Google's emulator (issue #2), every figure from one run:
 *
 * - a bare paginated read of all documents through the v1 API (the source's own limit);
 * - `firebackup backup` (the real CLI, in a child process: wall time and peak RSS);
 * - firestore-backfire 2.6 `export` of the same data (child process, same measures);
 * - `firebackup restore` into an empty project;
 * - peak RSS of `firebackup backup` at 10k and 100k documents (memory must stay flat).
 *
 * Uses $FIRESTORE_EMULATOR_HOST or starts the emulator. Sizes: BENCH_DOCS (default 22,000),
 * BENCH_FLAT=0 skips the 10k/100k memory runs, BENCH_BACKFIRE=0 the (slow) backfire run.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MasterKey } from '../src/engine/keys/master-key.js';
import {
  emulatorJar,
  startFirestoreEmulator,
  type RunningEmulator,
} from '../test/helpers/firestore-emulator.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';
import { ROOT, printTable, runNodeChild, type BenchLine, type ChildRun } from './lib.js';

const CLI = path.join(ROOT, 'bin/firebackup.js');
const BARE_READ = path.join(ROOT, 'bench/bare-read-child.mjs');
const BACKFIRE = path.join(ROOT, 'node_modules/firestore-backfire/dist/cjs/backfire.js');

export function project(name: string): string {
  return `bench-${name}-${randomBytes(3).toString('hex')}`;
}

export async function withEmulator<T>(body: (host: string) => Promise<T>): Promise<T> {
  let emulator: RunningEmulator | undefined;
  let host = process.env.FIRESTORE_EMULATOR_HOST ?? '';
  if (!host) {
    const jar = emulatorJar();
    if (!jar)
      throw new Error(
        'No Firestore emulator: set FIRESTORE_EMULATOR_HOST or FIRESTORE_EMULATOR_JAR.',
      );
    emulator = await startFirestoreEmulator(jar);
    host = emulator.host;
  }
  try {
    return await body(host);
  } finally {
    await emulator?.stop();
  }
}

export function check(run: ChildRun, what: string): ChildRun {
  if (run.code !== 0)
    throw new Error(`${what} failed (exit ${run.code}):\n${run.stderr.slice(-3000)}`);
  return run;
}

async function backupWithCli(
  host: string,
  projectId: string,
  env: NodeJS.ProcessEnv,
): Promise<{ run: ChildRun; dir: string; documents: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'fb-bench-'));
  const run = check(
    await runNodeChild(
      [CLI, 'backup', '--project', projectId, '--emulator', host, '--to', dir, '--json', '--quiet'],
      env,
    ),
    'firebackup backup',
  );
  return { run, dir, documents: (JSON.parse(run.stdout) as { documents: number }).documents };
}

export async function benchFirestore(): Promise<BenchLine[]> {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    throw new Error('Build the CLI first: npm run build (bench/run.ts does it).');
  }
  const count = Number(process.env.BENCH_DOCS ?? 22_000);
  const env = { ENCRYPTION_KEY: MasterKey.generate().revealHex() };
  return withEmulator(async (host) => {
    const source = project('src');
    process.stderr.write(`seeding ${count} documents (~1 KB, half in subcollections)…\n`);
    await seedDocuments(host, source, { count, withSubcollections: true });

    // Bare read and backup alternate, twice, each in a fresh process; the best of each
    // counts, so a noisy moment does not decide the ratio.
    let bare: ChildRun | undefined;
    let bareDocs = 0;
    let best: Awaited<ReturnType<typeof backupWithCli>> | undefined;
    for (let round = 0; round < 2; round++) {
      process.stderr.write(`bare read and firebackup backup, round ${round + 1}…\n`);
      const b = check(await runNodeChild([BARE_READ, source, host]), 'bare read');
      bareDocs = (JSON.parse(b.stdout) as { documents: number }).documents;
      if (!bare || b.ms < bare.ms) bare = b;
      const o = await backupWithCli(host, source, env);
      if (!best || o.run.ms < best.run.ms) best = o;
    }
    const ours = best!;
    const bareRate = bareDocs / (bare!.ms / 1000);
    // Both are wall times of a whole process, start-up included.
    const oursRate = ours.documents / (ours.run.ms / 1000);

    let backfire: ChildRun | undefined;
    let backfireDocs = 0;
    if (process.env.BENCH_BACKFIRE !== '0') {
      process.stderr.write('firestore-backfire export (slow)…\n');
      const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-bench-bf-')), 'export.ndjson');
      backfire = check(
        await runNodeChild([
          BACKFIRE,
          'export',
          out,
          '--project',
          source,
          '--emulator',
          host,
          '--quiet',
        ]),
        'backfire export',
      );
      backfireDocs = existsSync(out)
        ? (await readFile(out, 'utf8')).split('\n').filter((l) => l.trim().startsWith('{')).length
        : 0;
    }
    const backfireRate = backfire ? backfireDocs / (backfire.ms / 1000) : NaN;

    process.stderr.write('firebackup restore…\n');
    const target = project('dst');
    const restore = check(
      await runNodeChild(
        [
          CLI,
          'restore',
          'latest',
          '--from',
          ours.dir,
          '--to-project',
          target,
          '--emulator',
          host,
          '--json',
          '--quiet',
        ],
        env,
      ),
      'firebackup restore',
    );
    const restored = (JSON.parse(restore.stdout) as { created: number }).created;
    const restoreRate = restored / (restore.ms / 1000);

    const lines: BenchLine[] = [
      {
        name: `bare paginated v1 read (${bareDocs} docs, a process of its own)`,
        value: bareRate,
        unit: 'docs/s',
      },
      {
        name: `firebackup backup (${ours.documents} docs, the CLI process)`,
        value: oursRate,
        unit: 'docs/s',
      },
      ...(backfire
        ? [
            {
              name: `firestore-backfire 2.6 export (${backfireDocs} of ${count} docs exported)`,
              value: backfireRate,
              unit: 'docs/s',
            },
            {
              name: 'backup ÷ backfire',
              value: oursRate / backfireRate,
              unit: 'x',
              target: '≥ 20×',
              pass: oursRate / backfireRate >= 20,
            },
          ]
        : []),
      {
        name: 'backup ÷ bare read',
        value: oursRate / bareRate,
        unit: 'x',
        target: '≥ 0.5×',
        pass: oursRate / bareRate >= 0.5,
      },
      {
        name: 'backup peak RSS',
        value: ours.run.maxRssMb,
        unit: 'MB',
        target: '< 200 MB',
        pass: ours.run.maxRssMb < 200,
      },
      ...(backfire ? [{ name: 'backfire peak RSS', value: backfire.maxRssMb, unit: 'MB' }] : []),
      {
        name: `firebackup restore into an empty project (${restored} docs, verify pass included)`,
        value: restoreRate,
        unit: 'docs/s',
        target: '≥ 5,000',
        pass: restoreRate >= 5000,
      },
    ];
    await rm(ours.dir, { recursive: true, force: true });

    if (process.env.BENCH_FLAT !== '0') {
      for (const n of [10_000, 100_000]) {
        process.stderr.write(`memory at ${n} documents…\n`);
        const p = project(`flat${n}`);
        await seedDocuments(host, p, { count: n, withSubcollections: true });
        const run = await backupWithCli(host, p, env);
        lines.push({
          name: `backup peak RSS at ${n} docs (${Math.round(run.documents / (run.run.ms / 1000))} docs/s)`,
          value: run.run.maxRssMb,
          unit: 'MB',
          target: '< 200 MB, flat',
          pass: run.run.maxRssMb < 200,
        });
        await rm(run.dir, { recursive: true, force: true });
      }
    }
    return lines;
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable('Firestore (emulator)', await benchFirestore());
}
