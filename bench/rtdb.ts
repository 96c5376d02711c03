/**
 * The Realtime Database source (issue #10): `firebackup backup --sources rtdb` of a tree
 * of BENCH_RTDB_MB MB (default 200) and of a quarter of it, from the firebase-server
 * stand-in (test/setup/rtdb-server.ts), as a CLI child process: wall time, peak RSS
 * (VmHWM, bench/report-rss.cjs: the whole process, the RTDB reader's worker thread
 * included) and the archive's record count. Peak RSS must stay under 250 MB and about
 * flat as the tree grows: the export holds one page of children.
 *
 * The tree: top-level keys of ~100 kB each (100 children of ~1 kB: strings, numbers,
 * booleans, a nested object), the shape of a typical /users/{uid} or /rooms/{id} tree.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MasterKey } from '../src/engine/keys/master-key.js';
import type { RtdbValue } from '../src/engine/sources/rtdb/records.js';
import { startRtdbServer } from '../test/setup/rtdb-server.js';
import { runNodeChild, type BenchLine, type ChildRun } from './lib.js';

const PROJECT = 'demo-bench-rtdb';

function group(g: number): Record<string, RtdbValue> {
  const out: Record<string, RtdbValue> = {};
  for (let i = 0; i < 100; i++) {
    out[`m${String(i).padStart(3, '0')}`] = {
      text: `${g}-${i} `.repeat(100).slice(0, 900),
      n: g * 1000 + i + 0.25,
      ok: i % 2 === 0,
      meta: { at: 1_700_000_000_000 + i, tags: { a: true, b: 'x' } },
    };
  }
  return out;
}

const GROUP_BYTES = Buffer.byteLength(JSON.stringify(group(0)));

interface SizeRun {
  treeMB: number;
  groups: number;
  seconds: number;
  mbps: number;
  peakRssMiB: number;
  /**
   * The same backup with the backup thread's old space capped (NODE_OPTIONS; the RTDB
   * reader's worker has its own limits, ADR 0014): what that thread really keeps alive.
   */
  cappedPeakRssMiB: number;
  records: number;
}

/** The cap for the second run: a leak or the tree held by the backup's thread would not fit in it. */
const HEAP_CAP_MB = 64;

async function benchSize(treeMB: number): Promise<SizeRun> {
  const work = await mkdtemp(path.join(tmpdir(), 'fb-bench-rtdb-'));
  // The server starts with the tree (writing it in through the stand-in takes ~7 s/MB).
  const groups = Math.ceil((treeMB * 1e6) / GROUP_BYTES);
  const seed = path.join(work, 'seed.json');
  const out = createWriteStream(seed);
  out.write('{');
  for (let g = 0; g < groups; g++) {
    const text = `${g ? ',' : ''}"g${String(g).padStart(6, '0')}":${JSON.stringify(group(g))}`;
    if (!out.write(text)) await once(out, 'drain');
  }
  out.end('}');
  await finished(out);
  const server = await startRtdbServer(seed);
  try {
    const backup = async (nodeOptions: string): Promise<ChildRun> => {
      const to = await mkdtemp(path.join(work, 'to-'));
      const run = await runNodeChild(
        [
          'bin/firebackup.js',
          'backup',
          ...['--project', PROJECT, '--sources', 'rtdb', '--rtdb-emulator', server.endpoint],
          ...['--to', to, '--quiet', '--json'],
        ],
        { ENCRYPTION_KEY: MasterKey.generate().revealHex(), NODE_OPTIONS: nodeOptions },
      );
      await rm(to, { recursive: true, force: true });
      if (run.code !== 0) throw new Error(`backup --sources rtdb failed:\n${run.stderr}`);
      return run;
    };
    const run = await backup('');
    const capped = await backup(`--max-old-space-size=${HEAP_CAP_MB}`);
    const result = JSON.parse(run.stdout) as { counts: Record<string, number> };
    const bytes = groups * GROUP_BYTES;
    return {
      treeMB: bytes / 1e6,
      groups,
      seconds: run.ms / 1000,
      mbps: bytes / 1e6 / (run.ms / 1000),
      peakRssMiB: run.maxRssMb,
      cappedPeakRssMiB: capped.maxRssMb,
      records: result.counts['rtdb.records'] ?? 0,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
    await server.stop();
  }
}

export async function rtdbLines(): Promise<BenchLine[]> {
  const size = Number(process.env.BENCH_RTDB_MB ?? 200);
  const lines: BenchLine[] = [];
  for (const mb of [Math.max(1, Math.round(size / 4)), size]) {
    const r = await benchSize(mb);
    const what = `${r.treeMB.toFixed(0)} MB tree (${r.groups} top-level keys, ${r.records} records)`;
    lines.push(
      { name: `backup --sources rtdb, ${what}`, value: r.mbps, unit: 'MB/s' },
      {
        name: `peak RSS of the backup process, ${what}`,
        value: r.peakRssMiB,
        unit: 'MiB',
        target: '< 250',
        pass: r.peakRssMiB < 250,
      },
      {
        name: `peak RSS with the backup thread's old space capped at ${HEAP_CAP_MB} MB, ${what}`,
        value: r.cappedPeakRssMiB,
        unit: 'MiB',
      },
    );
  }
  return lines;
}
