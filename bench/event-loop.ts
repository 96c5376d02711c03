/**
 * Responsiveness during a backup (issue #4): event-loop delay p99 must stay under 50 ms
 * while a 20,000-document backup runs as a job in this process — the same process the
 * tray, the IPC handlers and the daemon's timers live in.
 *
 * Uses $FIRESTORE_EMULATOR_HOST, or starts the emulator itself.
 * Run: node --import tsx bench/event-loop.ts [documents]
 *
 * Note: Node's histogram includes the sampling interval (10 ms here): idle, p50 ≈ 10 ms.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { backupJob } from '../src/engine/jobs/specs.js';
import { createRuntime } from '../src/engine/jobs/runtime.js';
import { loadKeyring } from '../src/engine/keys/keyring.js';
import { emulatorJar, startFirestoreEmulator } from '../test/helpers/firestore-emulator.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';

const DOCUMENTS = Number(process.argv[2] ?? 20_000);
const P99_LIMIT_MS = 50;
/** BENCH_NO_VERIFY=1 measures the backup alone, without the verification that follows it. */
const verify = !process.env.BENCH_NO_VERIFY;

async function main(): Promise<number> {
  let host = process.env.FIRESTORE_EMULATOR_HOST ?? '';
  const jar = host ? undefined : emulatorJar();
  if (!host && !jar) {
    console.error('No Firestore emulator: set FIRESTORE_EMULATOR_HOST or FIRESTORE_EMULATOR_JAR.');
    return 2;
  }
  const emulator = jar ? await startFirestoreEmulator(jar) : undefined;
  host ||= emulator!.host;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fb-bench-loop-'));
  try {
    const projectId = `bench-loop-${randomBytes(3).toString('hex')}`;
    process.stderr.write(`seeding ${DOCUMENTS} documents…\n`);
    await seedDocuments(host, projectId, {
      count: DOCUMENTS,
      withSubcollections: true,
      docBytes: 1000,
    });

    const keyring = await loadKeyring({ env: { ENCRYPTION_KEY: randomBytes(32).toString('hex') } });
    const runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
    const project = runtime.catalog.projects.upsert({
      name: 'bench',
      firebaseProjectId: projectId,
      emulatorHost: host,
    });
    const destination = runtime.catalog.destinations.upsert({
      name: 'bench',
      url: path.join(dir, 'dest'),
    });

    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const started = performance.now();
    // The full job path: backup, read-back, verification of every record, catalog writes.
    const run = await runtime.jobs.start(
      backupJob(runtime, { project, destination, verifyAfter: { mode: verify ? 'full' : 'none' } }),
    ).done;
    const seconds = (performance.now() - started) / 1000;
    histogram.disable();
    runtime.close();

    if (run.status !== 'succeeded') {
      console.error(`backup ${run.status}: ${run.error?.message}`);
      return 1;
    }
    const ms = (ns: number): number => Math.round((ns / 1e6) * 10) / 10;
    const p99 = ms(histogram.percentile(99));
    const docs = run.counts?.['firestore.documents'] ?? 0;
    console.log(
      [
        `event-loop delay during a ${docs}-document backup job (${verify ? 'backup + full verify' : 'backup only'}), ${seconds.toFixed(1)} s:`,
        `  p50 ${ms(histogram.percentile(50))} ms   p99 ${p99} ms   max ${ms(histogram.max)} ms   (limit p99 < ${P99_LIMIT_MS} ms)`,
        `  ${Math.round(docs / seconds)} docs/s, ${run.bytes} archive bytes`,
        p99 < P99_LIMIT_MS ? 'PASS' : 'FAIL',
      ].join('\n'),
    );
    return p99 < P99_LIMIT_MS ? 0 : 1;
  } finally {
    await emulator?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = await main();
