/**
 * The sealer on a worker thread: AES-256-GCM and the archive digest of a backup run
 * there, in archive order, overlapping with the reading, batching and
 * compression on the main thread (ADR 0009). Blocks are transferred, not copied: the
 * worker hands each plaintext block back with its segment, for the writer to reuse.
 * Given a local folder's file, it writes the segments there itself and hands back only
 * their sizes (ADR 0029).
 *
 * The worker's code is a string evaluated as CommonJS, not a module file beside this
 * one: the same engine runs from TypeScript sources (tests, tsx), from dist/ and from
 * inside Electron's asar, and a string needs no file path in any of them. It imports
 * nothing of ours, so the segment layout is written out twice: here and in
 * segment-codec.ts (sealSegment); the sealer tests check both give identical bytes.
 */
import { Worker } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { TAG_LENGTH, segmentNonce } from './format.js';
import type { SegmentKeys } from './segment-codec.js';
import type { SealJob, Sealed, SegmentSealer } from './sealer.js';

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createHash } = require('node:crypto');
const { writeSync } = require('node:fs');
const key = Buffer.from(workerData.dataKey);
const aad = Buffer.from(workerData.aad);
const archiveHash = createHash('sha256');
const view = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
// The archive's file when this thread writes it (ADR 0029), else null; and where in it
// the next byte goes: the prelude and every segment, back to back, in archive order.
const fd = workerData.fd;
let position = 0;

function put(bytes) {
  if (fd === null) return;
  for (let done = 0; done < bytes.length; ) {
    done += writeSync(fd, bytes, done, bytes.length - done, position + done);
  }
  position += bytes.length;
}

// Segment: sealed length (4 bytes, big-endian) ‖ AES-256-GCM(coding byte ‖ payload) ‖ tag.
function seal(m) {
  const plain = view(m.plain);
  const payload = m.payload ? view(m.payload) : plain;
  const cipher = createCipheriv('aes-256-gcm', key, view(m.nonce), {
    authTagLength: workerData.tagLength,
  });
  cipher.setAAD(aad);
  const first = cipher.update(Buffer.of(m.coding));
  let body = cipher.update(payload);
  const final = cipher.final();
  const tag = cipher.getAuthTag();
  // Small parts outside Node's pool: a view of the pool would be cloned whole (8 KiB).
  const tail = Buffer.alloc(final.length + tag.length);
  final.copy(tail, 0);
  tag.copy(tail, final.length);
  const head = Buffer.alloc(4 + first.length);
  head.writeUInt32BE(first.length + body.length + tail.length, 0);
  first.copy(head, 4);
  // The ciphertext goes back as it is, without a copy into one segment buffer (a fresh
  // megabyte per block), when its memory is its own to transfer.
  const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
  if (!own) body = Buffer.from(body);
  const segment = [head, body, tail];
  const length = head.length + body.length + tail.length;
  for (const part of segment) {
    archiveHash.update(part);
    put(part);
  }
  if (fd !== null) return parentPort.postMessage({ ok: { segment: [], length, plain } }, [plain.buffer]);
  const transfer = [plain.buffer];
  if (body.byteLength === body.buffer.byteLength) transfer.push(body.buffer);
  parentPort.postMessage({ ok: { segment, length, plain } }, transfer);
}

parentPort.on('message', (m) => {
  try {
    if (m.op === 'seal') return seal(m);
    let ok = null;
    if (m.op === 'prelude') {
      const bytes = view(m.bytes);
      archiveHash.update(bytes);
      put(bytes);
    }
    else if (m.op === 'archive') ok = archiveHash.digest('hex');
    else throw new Error('unknown operation ' + m.op);
    parentPort.postMessage({ ok });
  } catch (error) {
    // A system call's errno code too (ENOSPC, EIO…), for the file's owner to tell the
    // user what it means; Node's own codes (ERR_…) stay internal failures.
    const code = error && /^E[A-Z]+$/.test(String(error.code)) ? error.code : undefined;
    parentPort.postMessage({ error: String((error && error.stack) || error), code });
  }
});
`;

interface Reply {
  ok?: unknown;
  error?: string;
  /** The errno code of a failed write into the archive's file. */
  code?: string;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** A copy of `bytes` in an ArrayBuffer of its own, to transfer without touching `bytes`. */
function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export class WorkerSealer implements SegmentSealer {
  private readonly worker: Worker;
  /** Replies come in request order: one waiting entry per message sent. */
  private readonly waiting: Waiting[] = [];
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  /**
   * With `fd`, this thread writes the prelude and every segment into that file itself, at
   * their offsets from 0, and hands back only their sizes (ADR 0029): no ciphertext
   * crosses to the main thread. The file must stay open until `close()` has resolved.
   */
  constructor(
    private readonly keys: SegmentKeys,
    fd?: number,
  ) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        dataKey: ownCopy(keys.dataKey),
        aad: ownCopy(keys.aad),
        tagLength: TAG_LENGTH,
        fd: fd ?? null,
      },
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // Idle, the worker must not keep the process alive (a writer that is dropped
    // without finish or abort); busy, it must, or a CLI could exit mid-backup.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) =>
      this.fail(new AppError('INTERNAL', `The archive's sealing thread stopped (exit ${code}).`)),
    );
  }

  prelude(bytes: Buffer): void {
    this.send({ op: 'prelude', bytes: ownCopy(bytes) }).catch(() => undefined);
  }

  async seal(job: SealJob): Promise<Sealed> {
    const raw = job.coded.payload === job.plain;
    // The plaintext block travels without a copy (the writer allocates blocks of their
    // own and gets them back); a compressed payload is small and belongs to zlib: copied.
    const payload = raw ? undefined : ownCopy(job.coded.payload);
    const transfer: ArrayBuffer[] = [job.plain.buffer as ArrayBuffer];
    if (payload) transfer.push(payload.buffer as ArrayBuffer);
    const result = (await this.send(
      {
        op: 'seal',
        nonce: segmentNonce(this.keys.noncePrefix, job.index, job.last),
        coding: job.coded.coding,
        plain: job.plain,
        payload,
      },
      transfer,
    )) as { segment: Uint8Array[]; length: number; plain: Uint8Array };
    return {
      segment: result.segment.map(asBuffer),
      length: result.length,
      plain: asBuffer(result.plain),
    };
  }

  async archiveDigest(): Promise<string> {
    return (await this.send({ op: 'archive' })) as string;
  }

  close(): Promise<void> {
    this.fail(new AppError('CANCELLED', 'The archive writer was closed.'));
    // terminate() stops the thread between two JavaScript steps: a write under way
    // completes first. Resolved on exit, whether this or something else stopped it.
    void this.worker.terminate();
    return this.exited;
  }

  private send(message: object, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.worker.ref();
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  private settle(reply: Reply): void {
    const next = this.waiting.shift();
    if (this.waiting.length === 0) this.worker.unref();
    if (!next) return;
    if (reply.error === undefined) next.resolve(reply.ok);
    else if (reply.code) next.reject(Object.assign(new Error(reply.error), { code: reply.code }));
    else next.reject(new AppError('INTERNAL', `Sealing the archive failed: ${reply.error}`));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const next of this.waiting.splice(0)) next.reject(this.failure);
    this.worker.unref();
  }
}
