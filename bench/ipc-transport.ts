/**
 * Contract round trips through the Electron IPC adapter (src/main/ipc.ts) while a backup
 * runs in the same process, as it does in the app's main process. Electron itself cannot
 * start here, so `ipcMain` is a stand-in that hands each call to the registered handler
 * with the app's main frame as sender and copies input and output with structuredClone
 * (what Electron's IPC serialisation does). The caller is another process (as the
 * renderer is), talking over Node's process channel and timing each call on its own
 * clock: a call that arrives while the main process is busy waits, and that wait counts
 * (timing inside the busy process would hide it).
 *
 * Uses $FIRESTORE_EMULATOR_HOST, or starts the emulator itself.
 * Run: node --import tsx bench/ipc-transport.ts [documents]
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDispatcher } from '../src/shared/api/dispatch.js';
import { IPC_CALL } from '../src/shared/api/ipc-channels.js';
import { createApiEvents } from '../src/engine/api/events.js';
import { createApiHandlers } from '../src/engine/api/handlers.js';
import { registerIpc, type IpcMainLike } from '../src/main/ipc.js';
import { APP_ORIGIN } from '../src/main/security.js';
import { backupFixture } from './backup-fixture.js';
import { latencySummary } from './lib.js';

const DOCUMENTS = Number(process.argv[2] === 'client' ? 0 : (process.argv[2] ?? 20_000));
const IDLE_CALLS = 1000;
const GAP_MS = 5;

const round = (ms: number): number => Math.round(ms * 100) / 100;

/** ipcMain with one window: `invoke` is what the preload's ipcRenderer.invoke does. */
function fakeIpcMain() {
  const handlers = new Map<string, Parameters<IpcMainLike['handle']>[1]>();
  const mainFrame = { url: `${APP_ORIGIN}/index.html` };
  const sender = {
    id: 1,
    mainFrame,
    send: () => {},
    isDestroyed: () => false,
    once: () => {},
  };
  const ipcMain: IpcMainLike = {
    handle: (channel, listener) => void handlers.set(channel, listener),
  };
  const invoke = async (channel: string, ...args: unknown[]): Promise<unknown> => {
    const answer = await handlers.get(channel)!(
      { senderFrame: mainFrame, sender },
      ...args.map((a) => structuredClone(a)),
    );
    return structuredClone(answer);
  };
  return { ipcMain, invoke };
}

/** The calling side, in its own process: `jobs.active` round trips, timed here. */
async function client(): Promise<void> {
  let n = 0;
  let stop = false;
  const pending = new Map<number, (answer: { ok: boolean }) => void>();
  const call = (): Promise<number> => {
    const id = ++n;
    const t = performance.now();
    return new Promise((resolve, reject) => {
      pending.set(id, (answer) => {
        pending.delete(id);
        if (!answer.ok) reject(new Error('jobs.active failed'));
        resolve(performance.now() - t);
      });
      process.send!({ id, channel: IPC_CALL, args: ['jobs.active', {}] });
    });
  };
  const measure = async (more: (i: number) => boolean, gapMs: number): Promise<void> => {
    const samples: number[] = [];
    for (let i = 0; more(i); i++) {
      samples.push(await call());
      if (gapMs) await sleep(gapMs);
    }
    process.send!({ samples });
  };
  process.on(
    'message',
    (m: { id?: number; answer?: { ok: boolean }; phase?: string; calls?: number }) => {
      if (m.id !== undefined) return pending.get(m.id)?.(m.answer!);
      if (m.phase === 'idle') void measure((i) => i < m.calls!, 0);
      if (m.phase === 'busy') void measure(() => !stop, GAP_MS);
      if (m.phase === 'stop') stop = true;
    },
  );
}

async function main(): Promise<number> {
  const fixture = await backupFixture('ipc', DOCUMENTS);
  if (!fixture) return 2;
  const { runtime, keyring } = fixture;
  try {
    const dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    const { ipcMain, invoke } = fakeIpcMain();
    registerIpc(ipcMain, dispatch, createApiEvents(runtime));

    // The renderer stand-in: calls arrive from another process; each is answered here.
    const child = fork(fileURLToPath(import.meta.url), ['client'], {
      execArgv: ['--import', 'tsx'],
    });
    child.on('message', (m: { id?: number; channel?: string; args?: unknown[] }) => {
      if (m.channel === undefined) return; // the client's results, read by next()
      void invoke(m.channel, ...(m.args ?? [])).then((answer) => child.send({ id: m.id, answer }));
    });
    const next = <T>(): Promise<T> =>
      new Promise((resolve) => {
        const on = (m: unknown): void => {
          if (typeof m === 'object' && m !== null && 'samples' in m) {
            child.off('message', on);
            resolve(m as T);
          }
        };
        child.on('message', on);
      });
    child.send({ phase: 'idle', calls: IDLE_CALLS });
    const { samples: idle } = await next<{ samples: number[] }>();

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    const started = performance.now();
    const job = (await invoke(IPC_CALL, 'jobs.startBackup', {
      projectId: fixture.project.id,
      destinationId: fixture.destination.id,
    })) as { ok: true; value: { jobId: string } } | { ok: false; error: { message: string } };
    if (!job.ok) throw new Error(job.error.message);
    const done = runtime.jobs.get(job.value.jobId)!.done;
    child.send({ phase: 'busy' });
    const busyDone = next<{ samples: number[] }>();
    await done;
    child.send({ phase: 'stop' });
    const { samples: busy } = await busyDone;
    child.kill();
    const run = await done;
    const seconds = (performance.now() - started) / 1000;
    loop.disable();
    if (run.status !== 'succeeded') {
      console.error(`backup ${run.status}: ${run.error?.message}`);
      return 1;
    }
    const docs = run.counts?.['firestore.documents'] ?? 0;
    const a = latencySummary('IPC round trip idle (jobs.active)', idle);
    const b = latencySummary(
      `IPC round trip during a ${docs}-document backup (${seconds.toFixed(1)} s)`,
      busy,
    );
    console.log(
      `main-process event-loop delay during the backup: p99 ${round(loop.percentile(99) / 1e6)} ms   max ${round(loop.max / 1e6)} ms`,
    );
    const pass = a.p99 < 20 && b.p99 < 50;
    console.log(
      `idle p99 ${a.p99} ms (< 20)   backup p99 ${b.p99} ms (< 50)   ${pass ? 'PASS' : 'FAIL'}`,
    );
    return pass ? 0 : 1;
  } finally {
    await fixture.close();
  }
}

if (process.argv[2] === 'client') await client();
else process.exitCode = await main();
