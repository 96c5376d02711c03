import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { craftBackup, sampleDocuments } from '../../../test/helpers/craft-backup.js';
import { VECTOR_KEY_HEX, VECTOR_RECORDS } from '../../../test/fixtures/format-v1/make-vectors.js';
import { VECTOR_MANIFEST } from '../../../test/fixtures/make-format-vectors.js';
import type { BackupManifest } from '../../shared/backups.js';
import { ArchiveReader, readArchivePrefix } from '../archive/reader.js';
import { Keyring } from '../keys/keyring.js';
import { MasterKey } from '../keys/master-key.js';
import type { StorageBackend } from '../storage/backend.js';
import { LocalBackend } from '../storage/local/local-backend.js';
import { FaultyBackend, type Fault } from '../storage/testing/faulty-backend.js';
import { archiveKeyOf } from './backup-names.js';
import { completeBackups } from './list.js';
import { archiveMatchesManifest, expectedKeyIds, readManifest, writeManifest } from './manifest.js';
import { rewrapBackups } from './rewrap.js';

const v1Key = MasterKey.fromHex(VECTOR_KEY_HEX, 'the test vector key');
const oldKey = MasterKey.generate();
const newKey = MasterKey.generate();
const v1Fixture = path.join(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../test/fixtures/format-v1/vector-1.fbk',
);

async function bytesOf(dest: StorageBackend, key: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of await dest.get(key)) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** A destination with backups under two old keys, one of them a format-1 archive. */
async function destinationWithOldBackups(): Promise<LocalBackend> {
  const dest = new LocalBackend(await mkdtemp(path.join(tmpdir(), 'fb-rewrap-')));
  await craftBackup(dest, oldKey, sampleDocuments(30), { createdAt: new Date('2026-01-01') });
  await craftBackup(dest, oldKey, sampleDocuments(5), { createdAt: new Date('2026-01-02') });
  // The committed format-1 vector, as a backup made by the first release.
  const v1 = await readFile(v1Fixture);
  const id = (VECTOR_RECORDS[0]!.value as { backupId: string }).backupId;
  await dest.put(archiveKeyOf(id), v1);
  const manifest: BackupManifest = {
    ...VECTOR_MANIFEST,
    format: 1,
    backupId: id,
    keyId: v1Key.id,
    archive: {
      key: archiveKeyOf(id),
      size: v1.length,
      sha256: createHash('sha256').update(v1).digest('hex'),
    },
  };
  await writeManifest(dest, manifest, v1Key);
  return dest;
}

/**
 * What a reader of the backup sees: the manifest opens, the archive is the one it
 * describes (its digest, its key id) and every record authenticates. Returns the records.
 */
async function readBackup(dest: StorageBackend, id: string, keyring: Keyring): Promise<string[]> {
  const manifest = await readManifest(dest, id, keyring);
  const reader = new ArchiveReader(await dest.get(archiveKeyOf(id)), keyring, {
    expectKeyId: expectedKeyIds(manifest),
  });
  const records: string[] = [];
  for await (const record of reader.records()) records.push(record.payload.toString());
  const summary = reader.summary!;
  expect(
    archiveMatchesManifest(manifest, { size: summary.archiveBytes, sha256: summary.archiveSha256 }),
    `${id}: archive matches its manifest`,
  ).toBe(true);
  return records;
}

async function readAll(dest: StorageBackend, keyring: Keyring): Promise<Map<string, string[]>> {
  const all = new Map<string, string[]>();
  for (const { id } of await completeBackups(dest))
    all.set(id, await readBackup(dest, id, keyring));
  return all;
}

describe('keys rewrap', () => {
  it('moves backups under two old keys onto the current key; only the new key is then needed', async () => {
    const dest = await destinationWithOldBackups();
    const before = await readAll(dest, new Keyring(undefined, [oldKey, v1Key]));
    expect(before.size).toBe(3);
    const segmentsBefore = new Map<string, Buffer>();
    for (const id of before.keys()) {
      const bytes = await bytesOf(dest, archiveKeyOf(id));
      segmentsBefore.set(id, bytes.subarray(24 + bytes.readUInt16BE(10)));
    }
    const keyring = new Keyring(newKey, [oldKey, v1Key]);

    const dry = await rewrapBackups(dest, keyring, { dryRun: true });
    expect(dry.map((r) => r.action)).toEqual(['rewrapped', 'rewrapped', 'rewrapped']);
    expect(await readAll(dest, new Keyring(undefined, [oldKey, v1Key]))).toEqual(before);

    const seen: string[] = [];
    const results = await rewrapBackups(dest, keyring, { onBackup: (r) => seen.push(r.id) });
    expect(results.map((r) => [r.action, r.archiveKeyId])).toEqual([
      ['rewrapped', oldKey.id],
      ['rewrapped', oldKey.id],
      ['rewrapped', v1Key.id],
    ]);
    expect(seen).toEqual(results.map((r) => r.id));

    const onlyNew = new Keyring(newKey);
    expect(await readAll(dest, onlyNew)).toEqual(before);
    for (const [id, segments] of segmentsBefore) {
      const bytes = await bytesOf(dest, archiveKeyOf(id));
      expect(bytes.subarray(24 + bytes.readUInt16BE(10)).equals(segments), id).toBe(true);
      const prefix = await readArchivePrefix(await dest.get(archiveKeyOf(id)));
      expect(prefix.envelope.keyId).toBe(newKey.id);
      const manifest = await readManifest(dest, id, onlyNew);
      expect(manifest.keyId).toBe(newKey.id);
      expect(manifest.archive.previous).toBeUndefined();
    }
    // The format-1 archive stays format 1 (its header is its segments' associated data).
    const v1Id = [...before.keys()].find((id) => id.endsWith('_00000000'))!;
    expect((await bytesOf(dest, archiveKeyOf(v1Id))).readUInt16BE(8)).toBe(1);

    // Idempotent: a second run skips everything and writes nothing.
    const counting = new FaultyBackend(dest);
    const again = await rewrapBackups(counting, keyring);
    expect(again.map((r) => r.action)).toEqual(['skipped', 'skipped', 'skipped']);
    expect(counting.calls.put).toBe(0);
  });

  it('reports a backup whose key is not held and goes on with the others', async () => {
    const dest = await destinationWithOldBackups();
    const results = await rewrapBackups(dest, new Keyring(newKey, [oldKey]));
    expect(results.map((r) => r.action)).toEqual(['rewrapped', 'rewrapped', 'failed']);
    expect(results[2]!.error).toMatchObject({ code: 'KEY_NOT_FOUND' });
  });

  it('leaves every backup readable with the old and new keys wherever it stops, and a re-run completes', async () => {
    const keyring = new Keyring(newKey, [oldKey, v1Key]);
    // One full run makes 3 puts per backup; stop it at each of them, by failing the put
    // outright or by dropping its stream part-way.
    const faults: Fault[] = [];
    for (let nth = 1; nth <= 9; nth++) {
      faults.push({ type: 'fail', op: 'put', nth });
      faults.push({ type: 'drop', op: 'put', nth, afterBytes: 100 });
    }
    for (const fault of faults) {
      const dest = await destinationWithOldBackups();
      const before = await readAll(dest, keyring);
      const faulty = new FaultyBackend(dest, [fault]);
      const stopped = await rewrapBackups(faulty, keyring);
      expect(
        stopped.some((r) => r.action === 'failed'),
        JSON.stringify(fault),
      ).toBe(true);
      expect(await readAll(dest, keyring), JSON.stringify(fault)).toEqual(before);

      const rerun = await rewrapBackups(dest, keyring);
      expect(
        rerun.every((r) => r.action !== 'failed'),
        JSON.stringify(rerun),
      ).toBe(true);
      expect(await readAll(dest, new Keyring(newKey)), JSON.stringify(fault)).toEqual(before);
      expect((await rewrapBackups(dest, keyring)).map((r) => r.action)).toEqual([
        'skipped',
        'skipped',
        'skipped',
      ]);
    }
  }, 120_000);

  it('closes every read of the stored archive when its put fails, even before reading it', async () => {
    const keyring = new Keyring(newKey, [oldKey, v1Key]);
    const dest = await destinationWithOldBackups();
    const reads: Readable[] = [];
    // The same folder, with every stream `get` returns kept to look at afterwards.
    const tracked: StorageBackend = Object.assign(Object.create(dest) as LocalBackend, {
      get: async (...args: Parameters<LocalBackend['get']>) => {
        const stream = await dest.get(...args);
        reads.push(stream);
        return stream;
      },
    });
    // The second put of a run is the first archive's: failed outright, its body unread.
    const stopped = await rewrapBackups(
      new FaultyBackend(tracked, [{ type: 'fail', op: 'put', nth: 2 }]),
      keyring,
    );
    expect(stopped.some((r) => r.action === 'failed')).toBe(true);
    expect(reads.length).toBeGreaterThan(3);
    // Each read was read to its end or closed: none is left for the collector to close.
    const open = reads.filter((stream) => !stream.destroyed && !stream.readableEnded);
    expect(open).toEqual([]);
  });

  it('refuses to re-wrap an archive that differs from its manifest, and leaves it', async () => {
    const dest = await destinationWithOldBackups();
    const id = (await completeBackups(dest))[0]!.id;
    const other = await craftBackup(dest, oldKey, sampleDocuments(2));
    await dest.put(archiveKeyOf(id), await bytesOf(dest, archiveKeyOf(other.id)));
    const results = await rewrapBackups(dest, new Keyring(newKey, [oldKey, v1Key]));
    const result = results.find((r) => r.id === id)!;
    expect(result).toMatchObject({ action: 'failed', error: { code: 'INTEGRITY' } });
    expect((await readArchivePrefix(await dest.get(archiveKeyOf(id)))).envelope.keyId).toBe(
      oldKey.id,
    );
  });
});

describe('a manifest read refuses anything that is not a manifest (issue 7, item 4)', () => {
  it('refuses a 0.6 MB archive put in the place of a manifest, after its header', async () => {
    const dest = new LocalBackend(await mkdtemp(path.join(tmpdir(), 'fb-swap-')));
    const docs = sampleDocuments(2000).map((doc) => ({
      ...doc,
      fields: { noise: { bytesValue: randomBytes(300).toString('base64') } },
    }));
    const big = await craftBackup(dest, oldKey, docs);
    const small = await craftBackup(dest, oldKey, sampleDocuments(1));
    expect(big.archive.length).toBeGreaterThan(600_000);
    await dest.put(`${small.id}.fbm`, big.archive);
    let pulled = 0;
    const measuring = Object.assign(Object.create(dest) as StorageBackend, {
      get: async (key: string) => {
        const stream = await dest.get(key);
        // Counts what the reader pulls, in 16 KiB pieces (the local back end reads 1 MiB
        // at a time, which would hide what the reader asks for).
        const counting = (async function* () {
          for await (const chunk of stream as AsyncIterable<Buffer>) {
            for (let at = 0; at < chunk.length; at += 16 * 1024) {
              const piece = chunk.subarray(at, at + 16 * 1024);
              pulled += piece.length;
              yield piece;
            }
          }
        })();
        return Readable.from(counting, { objectMode: false, highWaterMark: 1 });
      },
    });
    await expect(readManifest(measuring, small.id, new Keyring(oldKey))).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringMatching(/is a backup archive, not a manifest/),
    });
    // The header's piece and what the stream reads ahead, never the whole archive.
    expect(pulled).toBeLessThanOrEqual(64 * 1024);
  });
});
