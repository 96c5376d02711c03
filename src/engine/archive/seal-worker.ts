/**
 * The sealer on two worker threads (ADR 0025): the record digest (SHA-256 of the
 * plaintext blocks) on one, AES-256-GCM and the archive digest (SHA-256 of what is
 * written) on the other. On one thread these three passes cost ~2.1 s of CPU per GiB,
 * more than any other thread of a Storage backup; split, each thread carries about half
 * and both read the same block at once. The two digests stay sequential, each on its
 * own thread, which takes its messages in order; segments are independent under
 * AES-GCM (index-bound nonces) but are still sealed in order, on one thread.
 *
 * Blocks are shared, not moved: the writer allocates them in SharedArrayBuffers
 * (`newBlock`), both threads read the same memory, and the block is the writer's again
 * once both have answered for it (no copy, no transfer back). Only the ciphertext travels,
 * transferred from the segment thread.
 *
 * The threads' code is a string evaluated as CommonJS, not a module file beside this
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

// One source for both threads: each keeps one running SHA-256 ('update', 'digest'); the
// segment thread also seals ('seal', with the data key in its workerData).
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createHash } = require('node:crypto');
const hash = createHash('sha256');
const view = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

// Segment: sealed length (4 bytes, big-endian) ‖ AES-256-GCM(coding byte ‖ payload) ‖ tag.
function seal(m) {
  const cipher = createCipheriv('aes-256-gcm', view(workerData.dataKey), view(m.nonce), {
    authTagLength: workerData.tagLength,
  });
  cipher.setAAD(view(workerData.aad));
  const first = cipher.update(Buffer.of(m.coding));
  let body = cipher.update(view(m.payload));
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
  if (body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) body = Buffer.from(body);
  const segment = [head, body, tail];
  for (const part of segment) hash.update(part);
  parentPort.postMessage({ ok: segment }, [body.buffer]);
}

parentPort.on('message', (m) => {
  try {
    if (m.op === 'seal') return seal(m);
    let ok = null;
    if (m.op === 'update') hash.update(view(m.bytes));
    else if (m.op === 'digest') ok = hash.update(view(m.bytes)).digest('hex');
    else throw new Error('unknown operation ' + m.op);
    parentPort.postMessage({ ok });
  } catch (error) {
    parentPort.postMessage({ error: String((error && error.stack) || error) });
  }
});
`;

interface Reply {
  ok?: unknown;
  error?: string;
}

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const NOTHING = new Uint8Array(0);

/** A copy of `bytes` in an ArrayBuffer of its own, to transfer without touching `bytes`. */
function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** `bytes` itself when both threads can read its memory, else a copy that they can. */
function shared(bytes: Buffer): Buffer {
  if (bytes.buffer instanceof SharedArrayBuffer) return bytes;
  const copy = Buffer.from(new SharedArrayBuffer(bytes.length));
  bytes.copy(copy);
  return copy;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** One thread and its replies, which come in request order: one waiting entry per message. */
class SealThread {
  readonly worker: Worker;
  private readonly waiting: Waiting[] = [];

  constructor(
    workerData: object,
    private readonly failed: () => Error | undefined,
    onFailure: (error: Error) => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    // Idle, the thread must not keep the process alive (a writer that is dropped
    // without finish or abort); busy, it must, or a CLI could exit mid-backup.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', onFailure);
    this.worker.on('exit', (code) =>
      onFailure(new AppError('INTERNAL', `The archive's sealing thread stopped (exit ${code}).`)),
    );
  }

  send(message: object, transfer: ArrayBuffer[] = []): Promise<unknown> {
    const failure = this.failed();
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) this.worker.ref();
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(message, transfer);
    });
  }

  rejectAll(error: Error): void {
    for (const next of this.waiting.splice(0)) next.reject(error);
    this.worker.unref();
  }

  private settle(reply: Reply): void {
    const next = this.waiting.shift();
    if (this.waiting.length === 0) this.worker.unref();
    if (!next) return;
    if (reply.error === undefined) next.resolve(reply.ok);
    else next.reject(new AppError('INTERNAL', `Sealing the archive failed: ${reply.error}`));
  }
}

export class WorkerSealer implements SegmentSealer {
  /** The record digest's thread, then the segments' (tests stop one midway). */
  readonly threads: readonly Worker[];
  private readonly records: SealThread;
  private readonly segments: SealThread;
  private failure: Error | undefined;

  constructor(private readonly keys: SegmentKeys) {
    const failed = (): Error | undefined => this.failure;
    const fail = (error: Error): void => this.fail(error);
    this.records = new SealThread({}, failed, fail);
    this.segments = new SealThread(
      { dataKey: ownCopy(keys.dataKey), aad: ownCopy(keys.aad), tagLength: TAG_LENGTH },
      failed,
      fail,
    );
    this.threads = [this.records.worker, this.segments.worker];
  }

  /** Blocks in shared memory: both threads read them where the writer filled them. */
  newBlock(size: number): Buffer {
    return Buffer.from(new SharedArrayBuffer(size));
  }

  prelude(bytes: Buffer): void {
    this.segments.send({ op: 'update', bytes: ownCopy(bytes) }).catch(() => undefined);
  }

  async seal(job: SealJob): Promise<Sealed> {
    const plain = shared(job.plain);
    // Both threads start on the block at once; it is the caller's again when both answered.
    const digested = job.digestPlain ? this.records.send({ op: 'update', bytes: plain }) : null;
    // A compressed payload is small and belongs to zlib: copied, and moved to the thread.
    const raw = job.coded.payload === job.plain;
    const payload = raw ? plain : ownCopy(job.coded.payload);
    const sealed = this.segments.send(
      {
        op: 'seal',
        nonce: segmentNonce(this.keys.noncePrefix, job.index, job.last),
        coding: job.coded.coding,
        payload,
      },
      raw ? [] : [payload.buffer as ArrayBuffer],
    );
    const [segment] = (await Promise.all([sealed, digested])) as [Uint8Array[], unknown];
    return { segment: segment.map(asBuffer), plain: job.plain };
  }

  async recordDigest(tail: Buffer): Promise<string> {
    return (await this.records.send({ op: 'digest', bytes: ownCopy(tail) })) as string;
  }

  async archiveDigest(): Promise<string> {
    return (await this.segments.send({ op: 'digest', bytes: NOTHING })) as string;
  }

  close(): void {
    this.fail(new AppError('CANCELLED', 'The archive writer was closed.'));
    for (const thread of this.threads) void thread.terminate();
  }

  /** Either thread failing fails the sealer: every pending job of both, and all later calls. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.records.rejectAll(this.failure);
    this.segments.rejectAll(this.failure);
  }
}
