import { createHash, randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import { CODING_BROTLI, CODING_RAW } from './format.js';
import { RecordType } from './records.js';
import { WorkerSealer } from './seal-worker.js';
import { InlineSealer, type SealJob, type SegmentSealer } from './sealer.js';
import { compressBlock, type SegmentKeys } from './segment-codec.js';
import { openAllRecords } from './small-archive.js';
import { ArchiveWriter } from './writer.js';

const keys: SegmentKeys = {
  dataKey: randomBytes(32),
  noncePrefix: randomBytes(7),
  aad: randomBytes(24),
};

/** A block in an ArrayBuffer of its own, as the writer allocates them. */
function block(bytes: Buffer): Buffer {
  const own = Buffer.from(new ArrayBuffer(bytes.length));
  bytes.copy(own);
  return own;
}

/** The sealer's thread, for tests that stop it midway. */
const threadOf = (sealer: WorkerSealer): Worker => Reflect.get(sealer, 'worker') as Worker;

const text = Buffer.from('{"path":"c/1","fields":{}}\n'.repeat(3000));
const blocks = [randomBytes(64 * 1024), text.subarray(0, 64 * 1024), randomBytes(100)];

async function run(
  sealer: SegmentSealer,
): Promise<{ segments: string[]; plains: string[]; archive: string }> {
  sealer.prelude(Buffer.from('header and envelope'));
  const segments: string[] = [];
  const plains: string[] = [];
  for (const [index, bytes] of blocks.entries()) {
    const plain = block(bytes);
    const coded = await compressBlock(plain, 5);
    const job: SealJob = { index, last: index === 2, coded, plain };
    const sealed = await sealer.seal(job);
    segments.push(Buffer.concat(sealed.segment).toString('hex'));
    plains.push(sealed.plain.toString('hex'));
  }
  const archive = await sealer.archiveDigest();
  sealer.close();
  return { segments, plains, archive };
}

describe('segment sealers', () => {
  it('seal and digest byte for byte alike on the event loop and on a worker thread', async () => {
    expect((await compressBlock(block(blocks[0]!), 5)).coding).toBe(CODING_RAW);
    expect((await compressBlock(block(blocks[1]!), 5)).coding).toBe(CODING_BROTLI);
    const inline = await run(new InlineSealer(keys));
    const worker = await run(new WorkerSealer(keys));
    expect(worker).toEqual(inline);
    // The blocks come back intact for reuse.
    expect(worker.plains).toEqual(blocks.map((b) => b.toString('hex')));
    // The archive digest: the prelude, then every segment as written.
    const expected = createHash('sha256').update('header and envelope');
    for (const segment of worker.segments) expected.update(Buffer.from(segment, 'hex'));
    expect(worker.archive).toBe(expected.digest('hex'));
  });

  it('fails what is pending when closed, and refuses work after', async () => {
    const sealer = new WorkerSealer(keys);
    const plain = block(randomBytes(8192));
    const pending = sealer.seal({
      index: 0,
      last: false,
      coded: { coding: CODING_RAW, payload: plain },
      plain,
    });
    sealer.close();
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await expect(sealer.archiveDigest()).rejects.toMatchObject({ code: 'CANCELLED' });
  });
});

describe('the worker sealer with many blocks in flight, and failing', () => {
  /** Blocks of every kind the writer submits: raw, compressed and short. */
  function jobsFor(count: number): Buffer[] {
    return Array.from({ length: count }, (_, i) =>
      i % 3 === 1 ? text.subarray(i, i + 32 * 1024) : randomBytes(i % 5 === 0 ? 700 : 40_000),
    );
  }

  async function pipelined(
    sealer: SegmentSealer,
    jobs: Buffer[],
  ): Promise<{ segments: string[]; archive: string }> {
    sealer.prelude(Buffer.from('header and envelope'));
    const coded = await Promise.all(
      jobs.map((bytes) => {
        const plain = block(bytes);
        return compressBlock(plain, 5).then((c) => ({ plain, coded: c }));
      }),
    );
    // Every job in flight at once, handed over in archive order as the writer does.
    const sealed = await Promise.all(
      coded.map(({ plain, coded: c }, index) => {
        const last = index === jobs.length - 1;
        return sealer.seal({ index, last, coded: c, plain });
      }),
    );
    const archive = await sealer.archiveDigest();
    sealer.close();
    return { segments: sealed.map((s) => Buffer.concat(s.segment).toString('hex')), archive };
  }

  it('gives the single-thread reference bytes and digests with many blocks in flight', async () => {
    const jobs = jobsFor(60);
    const worker = await pipelined(new WorkerSealer(keys), jobs);
    const inline = await pipelined(new InlineSealer(keys), jobs);
    expect(worker).toEqual(inline);
  });

  it('fails every pending job and later call when the sealing thread stops midway', async () => {
    const sealer = new WorkerSealer(keys);
    const seal = (index: number): Promise<unknown> => {
      const plain = block(Buffer.alloc(256 * 1024, index));
      return sealer.seal({
        index,
        last: false,
        coded: { coding: CODING_RAW, payload: plain },
        plain,
      });
    };
    await seal(0);
    // Outcomes taken at once: the jobs fail together, before any one is awaited.
    const pending = [seal(1), seal(2), seal(3)].map((job) =>
      job.then(
        () => 'sealed',
        (error: unknown) => error,
      ),
    );
    await threadOf(sealer).terminate();
    // The thread may finish a job or two before it stops (a loaded machine): those are
    // sealed, in order; every job after the stop fails, none hangs, none is sealed later.
    const outcomes = await Promise.all(pending);
    const done = outcomes.filter((o) => o === 'sealed').length;
    expect(outcomes.slice(0, done)).toEqual(Array(done).fill('sealed'));
    for (const outcome of outcomes.slice(done)) {
      expect(outcome).toMatchObject({ code: 'INTERNAL' });
    }
    await expect(seal(4)).rejects.toMatchObject({ code: 'INTERNAL' });
    await expect(sealer.archiveDigest()).rejects.toMatchObject({ code: 'INTERNAL' });
    sealer.close();
  });

  it("surfaces an encryption failure as the job's error, with the cause", async () => {
    // A data key of the wrong length: the cipher refuses it on the sealing thread.
    const sealer = new WorkerSealer({ ...keys, dataKey: randomBytes(31) });
    const plain = block(Buffer.alloc(4096));
    const job = sealer.seal({
      index: 0,
      last: true,
      coded: { coding: CODING_RAW, payload: plain },
      plain,
    });
    await expect(job).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/Sealing the archive failed: .*key length/i),
    });
    sealer.close();
  });
});

describe('ArchiveWriter sealing off the event loop', () => {
  const key = MasterKey.generate();

  async function write(
    sealOffThread: boolean,
    blockSize: number,
  ): Promise<{ bytes: Buffer; summary: Awaited<ReturnType<ArchiveWriter['finish']>> }> {
    const writer = new ArchiveWriter({ key, blockSize, sealOffThread });
    const chunks: Buffer[] = [];
    writer.output.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => writer.output.once('end', resolve));
    await writer.writeJson(RecordType.BackupHeader, { format: 1 });
    for (let i = 0; i < 40; i++) {
      // Storage content of awkward sizes: within a block, across blocks, several blocks.
      const size = [1, 4095, 4096, 4097, 9000, 3 * blockSize + 5][i % 6]!;
      await writer.write(RecordType.StorageContent, Buffer.alloc(size, i));
      await writer.writeText(RecordType.FirestoreDocument, JSON.stringify({ i }));
    }
    const summary = await writer.finish();
    await ended;
    return { bytes: Buffer.concat(chunks), summary };
  }

  it.each([4096, 64 * 1024])(
    'writes an archive the reader authenticates, with the same records and digest (block %i)',
    async (blockSize) => {
      const off = await write(true, blockSize);
      const on = await write(false, blockSize);
      // Random data keys: the archives differ, the records and their digest do not.
      expect(off.summary.trailer).toEqual(on.summary.trailer);
      expect(off.summary.archiveSha256).toBe(createHash('sha256').update(off.bytes).digest('hex'));
      expect(off.summary.archiveBytes).toBe(off.bytes.length);
      const read = await openAllRecords(off.bytes, new Keyring(key));
      expect(read.summary.trailer).toEqual(off.summary.trailer);
      expect(read.summary.archiveSha256).toBe(off.summary.archiveSha256);
      expect(read.records).toHaveLength(81);
    },
  );

  it('fails the archive when the sealing thread stops midway: no end, nothing more written', async () => {
    const writer = new ArchiveWriter({ key, blockSize: 4096, sealOffThread: true });
    let ended = false;
    writer.output.on('end', () => (ended = true));
    writer.output.resume();
    for (let i = 0; i < 8; i++) {
      await writer.write(RecordType.StorageContent, randomBytes(3000));
    }
    await threadOf(Reflect.get(writer, 'sealer') as WorkerSealer).terminate();
    const rest = (async () => {
      for (let i = 0; i < 8; i++) {
        await writer.write(RecordType.StorageContent, randomBytes(3000));
      }
      await writer.finish();
    })();
    await expect(rest).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/sealing thread stopped/),
    });
    // The backup's caller aborts on that error: the destination sees a failed stream.
    const failed = new Promise((resolve) => writer.output.once('error', resolve));
    writer.abort(new Error('the sealing failed'));
    await failed;
    expect(ended).toBe(false);
  });

  it('fails a write pending at an abort with the abort reason, not the stopped thread', async () => {
    const writer = new ArchiveWriter({ key, blockSize: 4096, sealOffThread: true, concurrency: 1 });
    writer.output.resume();
    const pending = writer.write(RecordType.StorageContent, randomBytes(64 * 1024));
    const reason = new Error('the destination went away');
    writer.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});
