/**
 * `npm run bench [-- suite…]`: runs the benchmarks and prints one table per suite.
 * Suites: pipeline, firestore, browse, storage, storage-source, event-loop, web, ipc, ui, auth, rtdb, server (default: all), and restore-compare
 * (only when named: it needs BENCH_BASELINE, see bench/restore-compare.ts). Every ratio is measured
 * within one run, since these machines are noisy; docs/benchmarks.md records the results.
 */
import { execFileSync } from 'node:child_process';
import { authLines } from './auth.js';
import { benchBrowse } from './browse.js';
import { benchFirestore } from './firestore.js';
import { ROOT, printTable, runNodeChild, type BenchLine } from './lib.js';
import { benchPipeline } from './pipeline.js';
import { benchRestoreCompare } from './restore-compare.js';
import { rtdbLines } from './rtdb.js';
import { serverLines } from './server.js';
import { benchStorage } from './storage.js';
import { storageSourceLines } from './storage-source.js';

/**
 * A transport suite (web, ipc): the bench runs in its own process and prints one line per
 * phase with its p99; the budgets are the (< 20 ms idle, < 50 ms during a backup).
 */
async function transportLines(
  what: string,
  script: string,
  idleLabel: string,
  busyLabel: string,
  loopLabel?: string,
): Promise<BenchLine[]> {
  const run = await runNodeChild(['--import', 'tsx', script]);
  const text = run.stdout + run.stderr;
  const p99 = (label: string): number => {
    const m = new RegExp(`${label}[^\\n]*p99 ([\\d.]+) ms`).exec(text);
    return m ? Number(m[1]) : NaN;
  };
  const idle = p99(idleLabel);
  const busy = p99(busyLabel);
  return [
    {
      name: `${what} contract round trip p99, idle`,
      value: idle,
      unit: 'ms',
      target: '< 20 ms',
      pass: idle < 20,
    },
    {
      name: `${what} contract round trip p99, during a 20,000-document backup`,
      value: busy,
      unit: 'ms',
      target: '< 50 ms',
      pass: busy < 50,
    },
    ...(loopLabel
      ? [{ name: `${loopLabel} p99 during the backup`, value: p99(loopLabel), unit: 'ms' }]
      : []),
  ];
}

const suites: Record<string, () => Promise<BenchLine[]>> = {
  pipeline: () => benchPipeline(),
  firestore: () => benchFirestore(),
  'restore-compare': () => benchRestoreCompare(),
  storage: async () => {
    const r = await benchStorage();
    return [
      {
        name: `S3 upload, bare lib-storage (${r.sizeMiB} MiB)`,
        value: r.bareUploadMiBps,
        unit: 'MiB/s',
      },
      {
        name: 'S3 upload, firebackup put (retry + read-back verify)',
        value: r.oursUploadMiBps,
        unit: 'MiB/s',
      },
      {
        name: 'upload ratio',
        value: r.uploadRatio,
        unit: 'x',
        target: '≥ 0.8',
        pass: r.uploadRatio >= 0.8,
      },
      { name: 'S3 download, bare GetObject', value: r.bareDownloadMiBps, unit: 'MiB/s' },
      {
        name: 'S3 download + SHA-256 verify, firebackup',
        value: r.oursDownloadMiBps,
        unit: 'MiB/s',
      },
      {
        name: 'download ratio',
        value: r.downloadRatio,
        unit: 'x',
        target: '≥ 0.8',
        pass: r.downloadRatio >= 0.8,
      },
      {
        name: 'peak RSS of our upload/download',
        value: r.oursPeakRssMiB,
        unit: 'MiB',
        target: '< 250',
        pass: r.oursPeakRssMiB < 250,
      },
    ];
  },
  'storage-source': () => storageSourceLines(),
  // The renderer in Chromium (bench/ui/run.ts), in its own process: it needs the DOM types.
  ui: async () => {
    const run = await runNodeChild(['--import', 'tsx', 'bench/ui/run.ts']);
    const json = /FB_UI_BENCH=(.*)/.exec(run.stdout)?.[1];
    if (!json) throw new Error(`The ui bench failed:\n${run.stderr}`);
    return JSON.parse(json) as BenchLine[];
  },
  auth: () => authLines(),
  browse: () => benchBrowse(),
  rtdb: () => rtdbLines(),
  server: () => serverLines(),
  'event-loop': async () => {
    const run = await runNodeChild(['--import', 'tsx', 'bench/event-loop.ts']);
    const p99 = /p99 ([\d.]+) ms/.exec(run.stdout + run.stderr);
    return [
      {
        name: 'event-loop delay p99 during a 20,000-document backup job (+ verify)',
        value: p99 ? Number(p99[1]) : NaN,
        unit: 'ms',
        target: '< 50 ms',
        pass: p99 ? Number(p99[1]) < 50 : false,
      },
    ];
  },
  web: () =>
    transportLines('web mode', 'bench/web-transport.ts', 'round trip idle', 'round trip during'),
  // The app's IPC adapter with the engine in the same (main) process.
  ipc: () =>
    transportLines(
      'desktop IPC',
      'bench/ipc-transport.ts',
      'IPC round trip idle',
      'IPC round trip during',
      'main-process event-loop delay',
    ),
};

// The bare S3 client of the storage suite would print the SDK's Node 20 notice.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
// restore-compare needs a baseline build (BENCH_BASELINE), so only runs when named.
const names = wanted.length ? wanted : Object.keys(suites).filter((n) => n !== 'restore-compare');
const unknown = names.filter((n) => !suites[n]);
if (unknown.length) {
  console.error(
    `Unknown suite(s): ${unknown.join(', ')}. Choose from: ${Object.keys(suites).join(', ')}.`,
  );
  process.exit(2);
}
// The Firestore suite measures the real CLI, so build it first.
execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
console.log(`# FireBackup benchmarks — ${new Date().toISOString()}, node ${process.version}`);
let failed = false;
for (const name of names) {
  const lines = await suites[name]!();
  printTable(name, lines);
  failed ||= lines.some((l) => l.pass === false);
}
process.exitCode = failed ? 1 : 0;
