/**
 * Contract round trips through the loopback web mode (issue #8): the typed client over
 * the HTTP transport (fetch, keep-alive) against `firebackup ui`'s server and the real
 * engine, in one process as `firebackup ui` runs. p99 must stay < 20 ms idle and < 50 ms
 * while a 20,000-document backup started through the contract runs.
 *
 * Uses $FIRESTORE_EMULATOR_HOST, or starts the emulator itself.
 * Run: node --import tsx bench/web-transport.ts [documents]
 */
import { backupFixture } from './backup-fixture.js';
import { latencySummary } from './lib.js';
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createDispatcher } from '../src/shared/api/dispatch.js';
import { createApiEvents } from '../src/engine/api/events.js';
import { createApiHandlers } from '../src/engine/api/handlers.js';
import { startWebServer } from '../src/cli/web/server.js';

const DOCUMENTS = Number(process.argv[2] ?? 20_000);
const IDLE_CALLS = 1000;
/** Pause between calls during the backup: a busy UI polling, not a flood. */
const GAP_MS = 5;

const round = (ms: number): number => Math.round(ms * 100) / 100;

async function main(): Promise<number> {
  const fixture = await backupFixture('web', DOCUMENTS);
  if (!fixture) return 2;
  const { runtime, keyring } = fixture;
  const projectId = fixture.project.id;
  const destinationId = fixture.destination.id;
  try {
    const dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const server = await startWebServer({
      dispatch,
      events: createApiEvents(runtime),
    });
    // The client runs in its own process, as the page runs in the browser's.
    const child = fork(fileURLToPath(new URL('./web-transport-client.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      env: {
        ...process.env,
        BENCH_ORIGIN: server.origin,
        BENCH_TOKEN: server.token,
        BENCH_IDLE_CALLS: String(IDLE_CALLS),
        BENCH_GAP_MS: String(GAP_MS),
      },
    });
    const next = <T>(): Promise<T> =>
      new Promise((resolve, reject) => {
        child.once('message', (m) => resolve(m as T));
        child.once('exit', (code) => reject(new Error(`bench client exited (${code})`)));
      });
    try {
      const { idle } = await next<{ idle: number[] }>();
      child.send('busy-start');
      const busyDone = next<{ busy: number[] }>();
      // The server's own event-loop delay tells whether slow calls wait on the engine's work.
      const loop = monitorEventLoopDelay({ resolution: 10 });
      loop.enable();
      const started = performance.now();
      const job = await dispatch(
        'jobs.startBackup',
        { projectId, destinationId },
        { kind: 'local' },
      );
      if (!job.ok) throw new Error(job.error.message);
      const run = await runtime.jobs.get((job.value as { jobId: string }).jobId)!.done;
      const seconds = (performance.now() - started) / 1000;
      loop.disable();
      child.send('busy-stop');
      const { busy } = await busyDone;
      if (run.status !== 'succeeded') {
        console.error(`backup ${run.status}: ${run.error?.message}`);
        return 1;
      }
      const docs = run.counts?.['firestore.documents'] ?? 0;
      const a = latencySummary('round trip idle (jobs.active)', idle);
      const b = latencySummary(
        `round trip during a ${docs}-document backup (${seconds.toFixed(1)} s)`,
        busy,
      );
      console.log(
        `server event-loop delay during the backup: p99 ${round(loop.percentile(99) / 1e6)} ms   max ${round(loop.max / 1e6)} ms (includes the 10 ms sampling interval)`,
      );
      const pass = a.p99 < 20 && b.p99 < 50;
      console.log(
        `idle p99 ${a.p99} ms (< 20)   backup p99 ${b.p99} ms (< 50)   ${pass ? 'PASS' : 'FAIL'}`,
      );
      return pass ? 0 : 1;
    } finally {
      child.kill();
      await server.close();
    }
  } finally {
    await fixture.close();
  }
}

process.exitCode = await main();
