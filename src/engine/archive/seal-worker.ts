/**
 * The sealer on two worker threads in a chain (ADR 0025): the record digest thread
 * hashes each plaintext block and passes it on to the segment thread, which encrypts it
 * (AES-256-GCM) and hashes what is written (the archive digest). On one thread these
 * three passes cost ~2.1 s of CPU per GiB, more than any other thread of a Storage
 * backup; chained, each thread carries about half and the two work on consecutive
 * blocks at once. Both digests stay sequential: each thread takes its messages in order,
 * and everything for the segment thread (prelude, blocks, the final digest) goes
 * through the record digest thread, so it arrives in the order the writer sent it.
 *
 * Blocks are moved, not copied: main → record digest thread → segment thread → main,
 * each step a transfer; the writer gets each block back with its segment, for reuse.
 *
 * The threads' code is a string evaluated as CommonJS, not a module file beside this
 * one: the same engine runs from TypeScript sources (tests, tsx), from dist/ and from
 * inside Electron's asar, and a string needs no file path in any of them. It imports
 * nothing of ours, so the segment layout is written out twice: here and in
 * segment-codec.ts (sealSegment); the sealer tests check both give identical bytes.
 */
import { MessageChannel, Worker, type TransferListItem } from 'node:worker_threads';
import { AppError } from '../../shared/errors.js';
import { TAG_LENGTH, segmentNonce } from './format.js';
import type { SegmentKeys } from './segment-codec.js';
import type { SealJob, Sealed, SegmentSealer } from './sealer.js';

// One source, two roles (workerData.role). Replies to the writer: the record digest
// thread answers 'records' only; the segment thread answers everything else, in order.
const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createHash } = require('node:crypto');
const hash = createHash('sha256');
const view = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
const problem = (error) => String((error && error.stack) || error);

function recordsThread() {
  const next = workerData.next;
  parentPort.on('message', (m) => {
    if (m.op === 'records') {
      let reply;
      try {
        reply = { ok: hash.update(view(m.bytes)).digest('hex') };
      } catch (error) {
        reply = { error: problem(error) };
      }
      return parentPort.postMessage(reply);
    }
    try {
      const transfer = [];
      if (m.op === 'seal') {
        if (m.digestPlain) hash.update(view(m.plain));
        transfer.push(m.plain.buffer);
        if (m.payload) transfer.push(m.payload.buffer);
      }
      next.postMessage(m, transfer);
    } catch (error) {
      // The segment thread will never see this job: the whole sealer has failed.
      parentPort.postMessage({ fatal: problem(error) });
    }
  });
}

// Segment: sealed length (4 bytes, big-endian) ‖ AES-256-GCM(coding byte ‖ payload) ‖ tag.
function seal(m) {
  const plain = view(m.plain);
  const cipher = createCipheriv('aes-256-gcm', view(workerData.dataKey), view(m.nonce), {
    authTagLength: workerData.tagLength,
  });
  cipher.setAAD(view(workerData.aad));
  const first = cipher.update(Buffer.of(m.coding));
  let body = cipher.update(m.payload ? view(m.payload) : plain);
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
  return { ok: { segment, plain }, transfer: [plain.buffer, body.buffer] };
}

function segmentThread() {
  workerData.from.on('message', (m) => {
    let reply = { ok: null };
    try {
      if (m.op === 'seal') reply = seal(m);
      else if (m.op === 'prelude') hash.update(view(m.bytes));
      else if (m.op === 'archive') reply = { ok: hash.digest('hex') };
      else throw new Error('unknown operation ' + m.op);
    } catch (error) {
      reply = { error: problem(error) };
    }
    parentPort.postMessage({ ok: reply.ok, error: reply.error }, reply.transfer || []);
  });
}

if (workerData.role === 'records') recordsThread();
else segmentThread();
`;

interface Reply {
  ok?: unknown;
  error?: string;
  /** A failure that no waiting call will hear of: the sealer fails. */
  fatal?: string;
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

/** One thread and the calls waiting for its replies, which come in request order. */
class SealThread {
  readonly worker: Worker;
  readonly waiting: Waiting[] = [];

  constructor(
    workerData: object,
    transferList: TransferListItem[],
    private readonly fail: (error: Error) => void,
    private readonly settled: () => void,
  ) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData, transferList });
    // Idle, the thread must not keep the process alive (a writer that is dropped
    // without finish or abort); busy, it must, or a CLI could exit mid-backup.
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply));
    this.worker.on('error', fail);
    this.worker.on('exit', (code) =>
      fail(new AppError('INTERNAL', `The archive's sealing thread stopped (exit ${code}).`)),
    );
  }

  rejectAll(error: Error): void {
    for (const next of this.waiting.splice(0)) next.reject(error);
  }

  private settle(reply: Reply): void {
    if (reply.fatal !== undefined) {
      this.fail(new AppError('INTERNAL', `Sealing the archive failed: ${reply.fatal}`));
      return;
    }
    const next = this.waiting.shift();
    this.settled();
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
    const fail = (error: Error): void => this.fail(error);
    const settled = (): void => this.holdProcess();
    const { port1, port2 } = new MessageChannel();
    this.segments = new SealThread(
      {
        role: 'segments',
        from: port2,
        dataKey: ownCopy(keys.dataKey),
        aad: ownCopy(keys.aad),
        tagLength: TAG_LENGTH,
      },
      [port2],
      fail,
      settled,
    );
    this.records = new SealThread({ role: 'records', next: port1 }, [port1], fail, settled);
    this.threads = [this.records.worker, this.segments.worker];
  }

  newBlock(size: number): Buffer {
    // Never Node's shared pool: the block is moved to the threads and back.
    return Buffer.from(new ArrayBuffer(size));
  }

  prelude(bytes: Buffer): void {
    this.send(this.segments, { op: 'prelude', bytes: ownCopy(bytes) }).catch(() => undefined);
  }

  async seal(job: SealJob): Promise<Sealed> {
    const raw = job.coded.payload === job.plain;
    // The plaintext block travels without a copy (the writer allocates blocks of their
    // own and gets them back); a compressed payload is small and belongs to zlib: copied.
    const payload = raw ? undefined : ownCopy(job.coded.payload);
    const transfer: ArrayBuffer[] = [job.plain.buffer as ArrayBuffer];
    if (payload) transfer.push(payload.buffer as ArrayBuffer);
    const result = (await this.send(
      this.segments,
      {
        op: 'seal',
        nonce: segmentNonce(this.keys.noncePrefix, job.index, job.last),
        coding: job.coded.coding,
        plain: job.plain,
        payload,
        digestPlain: job.digestPlain,
      },
      transfer,
    )) as { segment: Uint8Array[]; plain: Uint8Array };
    return { segment: result.segment.map(asBuffer), plain: asBuffer(result.plain) };
  }

  async recordDigest(tail: Buffer): Promise<string> {
    return (await this.send(this.records, { op: 'records', bytes: ownCopy(tail) })) as string;
  }

  async archiveDigest(): Promise<string> {
    return (await this.send(this.segments, { op: 'archive' })) as string;
  }

  close(): void {
    this.fail(new AppError('CANCELLED', 'The archive writer was closed.'));
    for (const thread of this.threads) void thread.terminate();
  }

  /**
   * Every message goes to the record digest thread (which passes the segment thread's
   * on, in order); the reply comes from `replier`.
   */
  private send(
    replier: SealThread,
    message: object,
    transfer: ArrayBuffer[] = [],
  ): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      replier.waiting.push({ resolve, reject });
      this.holdProcess();
      this.records.worker.postMessage(message, transfer);
    });
  }

  /** Both threads keep the process alive while any call waits, and only then. */
  private holdProcess(): void {
    const busy = this.records.waiting.length + this.segments.waiting.length > 0;
    for (const thread of this.threads) {
      if (busy) thread.ref();
      else thread.unref();
    }
  }

  /** Either thread failing fails the sealer: every pending call of both, and all later ones. */
  private fail(error: Error): void {
    this.failure ??= error;
    this.records.rejectAll(this.failure);
    this.segments.rejectAll(this.failure);
    this.holdProcess();
  }
}
