/**
 * The worker thread that reads one Realtime Database instance (worker-export.ts starts
 * it): firebase-admin and every page it brings live in this thread's small heap, and
 * only the finished records cross to the backup, as transferred buffers.
 *
 * Backpressure: at most `window` records are in flight; each one the backup has taken
 * returns a credit. Errors go back as AppError data (code and message); anything this
 * thread cannot report itself (running out of its heap) the main side sees as the
 * worker's 'error' event. Must not use `import.meta` (module-worker.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorData } from '../../../shared/errors.js';
import { openRtdb } from './connection.js';
import { exportTree } from './export.js';
import type { FromReader, RtdbReaderInput, ToReader } from './worker-export.js';

const input = workerData as RtdbReaderInput;
const port = parentPort!;
const encoder = new TextEncoder();

let credit = input.window;
let wake: (() => void) | undefined;

port.on('message', (message: ToReader) => {
  credit += message.credit;
  wake?.();
});

const send = (message: FromReader, transfer: ArrayBuffer[] = []): void =>
  port.postMessage(message, transfer);

async function run(): Promise<void> {
  const conn = await openRtdb(input.connect);
  try {
    const instance = await conn.instance(input.instance);
    for await (const record of exportTree(instance, input.tree)) {
      while (credit <= 0) await new Promise<void>((resolve) => (wake = resolve));
      credit--;
      // A fresh ArrayBuffer per record (not Buffer's shared pool), so it can be moved.
      const bytes = encoder.encode(record.json);
      send({ kind: 'record', bytes }, [bytes.buffer as ArrayBuffer]);
    }
    send({ kind: 'done', queries: instance.queries });
  } finally {
    await conn.close();
  }
}

run().catch((error: unknown) => send({ kind: 'error', error: toErrorData(error) }));
