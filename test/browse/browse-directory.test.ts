import { Readable } from 'node:stream';
import { beforeEach, describe, expect, it } from 'vitest';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { openAllRecords } from '../../src/engine/archive/small-archive.js';
import { BackupIndex } from '../../src/engine/browse/backup-index.js';
import {
  DIRECTORY_MAX_DOCUMENTS,
  DirectoryBuilder,
  writeBrowseDirectory,
  type DirectoryHeader,
} from '../../src/engine/browse/directory.js';
import { BackupIndexCache } from '../../src/engine/browse/index-cache.js';
import { RecordType, parseJsonPayload } from '../../src/engine/archive/records.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import {
  archiveKeyOf,
  browseDirectoryKeyOf,
  manifestKeyOf,
} from '../../src/engine/operations/backup-names.js';
import { readManifest } from '../../src/engine/operations/manifest.js';
import { resolveBackup } from '../../src/engine/operations/resolve-backup.js';
import { rewrapBackups } from '../../src/engine/operations/rewrap.js';
import { peekKeyId } from '../../src/engine/archive/reader.js';
import type { GetOptions } from '../../src/engine/storage/backend.js';
import { bodyToBuffer } from '../../src/engine/storage/backend.js';
import { MemoryBackend } from '../../src/engine/storage/memory/memory-backend.js';
import { craftBackup } from '../helpers/craft-backup.js';
import { flipBitAtRest } from '../helpers/corruption-at-rest.js';

/** A memory destination that counts the bytes each object served. */
class CountingBackend extends MemoryBackend {
  served = new Map<string, number>();
  override async get(key: string, options?: GetOptions): Promise<Readable> {
    const bytes = await bodyToBuffer(await super.get(key, options));
    this.served.set(key, (this.served.get(key) ?? 0) + bytes.length);
    return Readable.from([bytes]);
  }
}

/** 300 documents in three collections, a subcollection under a document that is absent. */
function documents(): FirestoreDocumentRecord[] {
  return Array.from({ length: 300 }, (_, i) => ({
    path:
      i % 10 === 9
        ? `ghosts/g${i % 3}/notes/n${String(i).padStart(3, '0')}`
        : `${['users', 'orders'][i % 2]}/d${String((i * 37) % 1000).padStart(3, '0')}`,
    createTime: '2026-11-28T12:00:00.123456789Z',
    updateTime: '2026-11-28T12:00:01.000000001Z',
    fields: {
      n: { integerValue: String(i) },
      text: { stringValue: `document ${i} ${'x'.repeat(i % 50)}` },
      neg0: { doubleValue: '-0' },
    },
  }));
}

const key = MasterKey.generate();
const keyring = new Keyring(key);

async function bytesOf(dest: MemoryBackend, name: string): Promise<Buffer> {
  return bodyToBuffer(await dest.get(name));
}

function open(dest: MemoryBackend, id: string): Promise<BackupIndex> {
  return new BackupIndexCache(keyring).get(id, () => resolveBackup(id, dest));
}

/**
 * Opens every document of a collection of a damaged backup: some are refused with
 * ARCHIVE_CORRUPT saying `why`, and every one shown is exactly the document written.
 */
async function expectSomeRefusedRestExact(
  index: BackupIndex,
  collection: string,
  why: string,
): Promise<void> {
  const written = new Map(documents().map((d) => [d.path, d]));
  const paths = index.page(collection, undefined, 1000).ids.map((d) => `${collection}/${d}`);
  const results = await Promise.allSettled(paths.map((path) => index.document(path)));
  const refused = results.filter((r) => r.status === 'rejected');
  expect(refused.length).toBeGreaterThan(0);
  for (const r of refused) {
    expect(r.reason).toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining(why),
    });
  }
  results.forEach((r, i) => {
    if (r.status === 'fulfilled') expect(r.value).toEqual(written.get(paths[i]!));
  });
}

describe('browse directory (docs/design.md §7)', () => {
  let dest: CountingBackend;
  let id: string;
  let archive: Buffer;

  beforeEach(async () => {
    dest = new CountingBackend();
    ({ id, archive } = await craftBackup(dest, key, documents(), { directory: true }));
    dest.served.clear();
  });

  it('answers pages from the directory and a document from its own segment', async () => {
    const index = await open(dest, id);
    expect(dest.served.get(archiveKeyOf(id)) ?? 0).toBe(0); // pages need no archive byte
    const full = await BackupIndex.build(await resolveBackup(id, dest), keyring);
    expect(index.totalDocuments).toBe(300);
    expect(index.collections('')).toEqual(full.collections(''));
    expect(index.page('users', undefined, 20)).toEqual(full.page('users', undefined, 20));
    expect(index.page('ghosts', undefined, 5)).toEqual(full.page('ghosts', undefined, 5));
    expect(index.isMissing('ghosts/g1')).toBe(true);
    expect(index.collections('ghosts/g1')).toEqual(full.collections('ghosts/g1'));

    dest.served.clear();
    const doc = await index.document('orders/d111');
    expect(doc).toEqual(await full.document('orders/d111'));
    // The header and envelope, then one or two 4 KiB segments: not the archive.
    const read = dest.served.get(archiveKeyOf(id))!;
    expect(read).toBeLessThan(3 * 4200);
    expect(read).toBeLessThan(archive.length / 5);
    for (const path of ['users/d000', 'ghosts/g2/notes/n299', 'orders/d037']) {
      expect(await index.document(path)).toEqual(await full.document(path));
    }
    await expect(index.document('users/nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a directory with a flipped bit, naming it', async () => {
    await flipBitAtRest(dest, browseDirectoryKeyOf(id));
    await expect(open(dest, id)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining(`${id}.fbx`),
    });
  });

  it("refuses another backup's directory put in its place", async () => {
    const other = await craftBackup(dest, key, documents(), { directory: true });
    await dest.put(browseDirectoryKeyOf(id), await bytesOf(dest, browseDirectoryKeyOf(other.id)));
    await expect(open(dest, id)).rejects.toMatchObject({ code: 'ARCHIVE_MISMATCH' });
  });

  it('refuses a tampered segment when its document is opened, never showing it', async () => {
    const index = await open(dest, id);
    // Damage the middle of the archive: the segment of some documents there.
    await flipBitAtRest(dest, archiveKeyOf(id));
    await expectSomeRefusedRestExact(index, 'users', 'failed authentication');
  });

  it('refuses a directory (sealed with the key) that points at another document', async () => {
    // What a buggy writer would produce: positions shifted by one document.
    const docs = documents();
    const { id: id2, archive: bytes } = await craftBackup(dest, key, docs, { directory: true });
    const sealed = await openAllRecords(await bytesOf(dest, browseDirectoryKeyOf(id2)), keyring, {
      purpose: 'browseDirectory',
    });
    const header = parseJsonPayload<DirectoryHeader>(sealed.records[0]!);
    const entries = sealed.records.slice(1).map((r) => {
      const e = parseJsonPayload<{ collection: string; ids: string[]; at: number[] }>(r);
      if (e.collection === 'users') {
        // Swap the first two documents' positions (delta-coded: decode, swap, encode).
        const at = e.at.map((_, i) => e.at.slice(0, i + 1).reduce((a, b) => a + b, 0));
        [at[0], at[1]] = [at[1]!, at[0]!];
        e.at = at.map((p, i) => (i === 0 ? p : p - at[i - 1]!));
      }
      return { type: RecordType.DirectoryEntries, value: e };
    });
    await writeBrowseDirectory(dest, id2, key, [
      { type: RecordType.DirectoryHeader, value: header },
      ...entries,
    ]);
    expect(bytes.length).toBe(header.archive.size);
    const index = await open(dest, id2);
    const [first] = index.page('users', undefined, 1).ids;
    await expect(index.document(`users/${first}`)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining('does not match the archive'),
    });
  });

  it('refuses another archive of the same backup id under a valid directory', async () => {
    const directory = await bytesOf(dest, browseDirectoryKeyOf(id));
    const manifest = await bytesOf(dest, manifestKeyOf(id));
    // Same id, same documents: another archive (its own random nonce prefix and data key).
    await craftBackup(dest, key, documents(), { id, directory: true });
    await dest.put(browseDirectoryKeyOf(id), directory);
    await dest.put(manifestKeyOf(id), manifest);
    const index = await open(dest, id);
    await expect(index.document('users/d000')).rejects.toMatchObject({
      code: 'ARCHIVE_MISMATCH',
    });
  });

  it('refuses a truncated archive when a document past its end is opened', async () => {
    await dest.put(archiveKeyOf(id), archive.subarray(0, Math.floor(archive.length / 2)));
    const index = await open(dest, id);
    await expectSomeRefusedRestExact(index, 'orders', 'truncated');
  });

  it('browses a backup without a directory (older ones) by a full read, as before', async () => {
    await dest.delete(browseDirectoryKeyOf(id));
    const index = await open(dest, id);
    expect(dest.served.get(archiveKeyOf(id))).toBe(archive.length);
    expect(index.totalDocuments).toBe(300);
    expect((await index.document('users/d000')).fields.n).toEqual({ integerValue: '0' });
  });

  it('is refused as an archive, and an archive is refused as a directory', async () => {
    const directory = await bytesOf(dest, browseDirectoryKeyOf(id));
    await expect(openAllRecords(directory, keyring)).rejects.toMatchObject({
      code: 'ARCHIVE_CORRUPT',
      message: expect.stringContaining('browse directory, not a backup archive'),
    });
    await dest.put(browseDirectoryKeyOf(id), archive);
    await expect(open(dest, id)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('binds to the manifest: its document count', async () => {
    const manifest = await readManifest(dest, id, keyring);
    expect(manifest.counts['firestore.documents']).toBe(300);
    // A directory with fewer documents than the manifest, sealed with the key.
    const builder = new DirectoryBuilder();
    builder.add('users/only', 10, 20);
    const records = builder.build(id, {
      size: manifest.archive.size,
      layout: { header: archive.subarray(0, 24), blockSize: 4096, segmentOffsets: [102, 4000] },
    })!;
    await writeBrowseDirectory(dest, id, key, records);
    await expect(open(dest, id)).rejects.toMatchObject({ code: 'ARCHIVE_MISMATCH' });
  });

  it('keeps working after `keys rewrap`: the directory is re-wrapped too', async () => {
    const next = MasterKey.generate();
    const both = new Keyring(next, [key]);
    expect(await rewrapBackups(dest, both)).toMatchObject([{ id, action: 'rewrapped' }]);
    expect(await peekKeyId(await dest.get(browseDirectoryKeyOf(id)))).toBe(next.id);
    // The old key retired: the directory and the archive open with the new one alone.
    const alone = new Keyring(next);
    const index = await new BackupIndexCache(alone).get(id, () => resolveBackup(id, dest));
    dest.served.clear();
    expect((await index.document('users/d000')).fields.n).toEqual({ integerValue: '0' });
    expect(dest.served.get(archiveKeyOf(id))!).toBeLessThan(3 * 4200);
    // Re-running finds nothing left to do.
    expect(await rewrapBackups(dest, both)).toMatchObject([{ id, action: 'skipped' }]);
  });

  it('falls back to a full read when the directory is under a key not held (an old rewrap)', async () => {
    const next = MasterKey.generate();
    const both = new Keyring(next, [key]);
    const directory = await bytesOf(dest, browseDirectoryKeyOf(id));
    await rewrapBackups(dest, both);
    // As a FireBackup that predates the directory re-wraps: the archive only.
    await dest.put(browseDirectoryKeyOf(id), directory);
    dest.served.clear();
    const index = await new BackupIndexCache(new Keyring(next)).get(id, () =>
      resolveBackup(id, dest),
    );
    expect(dest.served.get(archiveKeyOf(id))).toBe(archive.length);
    expect(index.totalDocuments).toBe(300);
  });

  it('is not written past its memory cap (the backup is browsed by a full read then)', () => {
    const builder = new DirectoryBuilder();
    for (let i = 0; i <= DIRECTORY_MAX_DOCUMENTS; i++) builder.add(`c/${i}`, i * 10, 10);
    expect(builder.overflowed).toBe(true);
    expect(
      builder.build(id, {
        size: 1,
        layout: { header: Buffer.alloc(24), blockSize: 4096, segmentOffsets: [0, 1] },
      }),
    ).toBeUndefined();
  });

  it('ignores a directory of a later format (made by a newer version): full read', async () => {
    const sealed = await openAllRecords(await bytesOf(dest, browseDirectoryKeyOf(id)), keyring, {
      purpose: 'browseDirectory',
    });
    const header = { ...parseJsonPayload<DirectoryHeader>(sealed.records[0]!), format: 2 };
    await writeBrowseDirectory(dest, id, key, [
      { type: RecordType.DirectoryHeader, value: header },
    ]);
    const index = await open(dest, id);
    expect(dest.served.get(archiveKeyOf(id))).toBe(archive.length);
    expect(index.totalDocuments).toBe(300);
  });
});
