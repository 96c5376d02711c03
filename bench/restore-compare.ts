/**
 * `npm run bench -- restore-compare` (with BENCH_BASELINE=<checkout of an earlier commit,
 * built>): restore throughput of this checkout against an earlier one, in one run.
 *
 * Why: a change to the restore path (issue #7 bound its two reads together, issue #11
 * made its counts exact) must not cost more than 10 % of throughput. Absolute docs/s on
 * these shared 2-core machines swing by 2-3x with load, so both builds restore the same
 * archive into fresh projects of one emulator, alternating, and the best round of each
 * counts. The archive is made by the baseline, so both can read it (newer builds read
 * every older format).
 *
 * Make a baseline: git worktree add /tmp/fb-base <commit> && (cd /tmp/fb-base && npm ci).
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MasterKey } from '../src/engine/keys/master-key.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';
import { check, project, withEmulator } from './firestore.js';
import { ROOT, printTable, runNodeChild, type BenchLine } from './lib.js';

function cliOf(root: string): string {
  const cli = path.join(root, 'bin/firebackup.js');
  if (!existsSync(path.join(root, 'dist/cli/main.js'))) {
    throw new Error(`Build ${root} first (npm ci there runs the build).`);
  }
  return cli;
}

export async function benchRestoreCompare(): Promise<BenchLine[]> {
  const baselineRoot = process.env.BENCH_BASELINE;
  if (!baselineRoot) {
    throw new Error(
      'Set BENCH_BASELINE to a built checkout of the commit to compare with (see bench/restore-compare.ts).',
    );
  }
  const builds = { baseline: cliOf(path.resolve(baselineRoot)), current: cliOf(ROOT) };
  const count = Number(process.env.BENCH_DOCS ?? 22_000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const env = { ENCRYPTION_KEY: MasterKey.generate().revealHex() };
  return withEmulator(async (host) => {
    const source = project('cmp-src');
    process.stderr.write(`seeding ${count} documents…\n`);
    await seedDocuments(host, source, { count, withSubcollections: true });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-bench-cmp-'));
    check(
      await runNodeChild(
        [
          builds.baseline,
          'backup',
          '--project',
          source,
          '--emulator',
          host,
          '--to',
          dir,
          '--quiet',
        ],
        env,
      ),
      'baseline backup',
    );
    const best = { baseline: 0, current: 0 };
    for (let round = 0; round < rounds; round++) {
      for (const which of ['baseline', 'current'] as const) {
        process.stderr.write(`restore, round ${round + 1}, ${which}…\n`);
        const target = project(`cmp-${which}`);
        const run = check(
          await runNodeChild(
            [
              builds[which],
              'restore',
              'latest',
              '--from',
              dir,
              '--to-project',
              target,
              '--emulator',
              host,
              '--json',
              '--quiet',
            ],
            env,
          ),
          `${which} restore`,
        );
        const created = (JSON.parse(run.stdout) as { created: number }).created;
        if (created !== count) throw new Error(`${which} restored ${created} of ${count}`);
        best[which] = Math.max(best[which], created / (run.ms / 1000));
      }
    }
    const ratio = best.current / best.baseline;
    return [
      {
        name: `baseline restore (${count} docs, best of ${rounds})`,
        value: best.baseline,
        unit: 'docs/s',
      },
      {
        name: `this checkout's restore (same archive, best of ${rounds})`,
        value: best.current,
        unit: 'docs/s',
        target: '≥ 5000',
        pass: best.current >= 5000,
      },
      {
        name: 'ratio (this / baseline)',
        value: ratio,
        unit: 'x',
        target: '≥ 0.9',
        pass: ratio >= 0.9,
      },
    ];
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printTable('Restore against a baseline (emulator)', await benchRestoreCompare());
}
