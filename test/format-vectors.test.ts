import { createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import xxhash from 'xxhash-wasm';
import { RecordType, parseJsonPayload } from '../src/engine/archive/records.js';
import { openAllRecords } from '../src/engine/archive/small-archive.js';
import { Keyring } from '../src/engine/keys/keyring.js';
import { MasterKey } from '../src/engine/keys/master-key.js';
import { expectEveryHeaderBitFlipRefused } from './helpers/archive-read-back.js';
import { VECTOR_KEY_HEX } from './fixtures/format-v1/make-vectors.js';
import { BROWSE_VECTOR_ID, vectorDocuments } from './fixtures/browse-directory-v1/make-vectors.js';
import type { DirectoryHeader } from '../src/engine/browse/directory.js';
import { BackupIndexCache } from '../src/engine/browse/index-cache.js';
import { resolveBackup } from '../src/engine/operations/resolve-backup.js';
import { LocalBackend } from '../src/engine/storage/local/local-backend.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const key = MasterKey.fromHex(VECTOR_KEY_HEX, 'the test vector key');
const ring = new Keyring(key);

interface Expected {
  keyId: string;
  trailer?: Record<string, unknown>;
  records: Array<{ type: number; payload: string }>;
  manifest?: string;
}

async function load(version: string, file: string): Promise<Buffer> {
  return readFile(path.join(fixtures, version, file));
}

async function expected(version: string): Promise<Expected> {
  return JSON.parse(
    await readFile(path.join(fixtures, version, 'expected.json'), 'utf8'),
  ) as Expected;
}

describe('format v1 known-answer vectors (committed; must stay readable forever)', () => {
  it('reads vector-1.fbk to exactly the expected records', async () => {
    const bytes = await load('format-v1', 'vector-1.fbk');
    const want = await expected('format-v1');
    expect(key.id).toBe(want.keyId);
    const { records, summary } = await openAllRecords(bytes, ring);
    expect(records.map((r) => ({ type: r.type, payload: r.payload.toString('utf8') }))).toEqual(
      want.records,
    );
    expect(summary.segments).toBeGreaterThan(1);
    expect(summary.trailer.counts).toEqual({ 'firestore.documents': 40 });
  });

  it('keeps the documented header layout', async () => {
    const bytes = await load('format-v1', 'vector-1.fbk');
    expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x46, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(bytes.readUInt16BE(8)).toBe(1);
    expect(bytes.readUInt32BE(12)).toBe(4096);
    const envelopeLength = bytes.readUInt16BE(10);
    expect(bytes[24]).toBe(17); // key id length: 'k' + 16 hex
    expect(envelopeLength).toBe(1 + 17 + 12 + 48);
  });

  it('refuses a flip of every bit of its header and envelope', async () => {
    await expectEveryHeaderBitFlipRefused(await load('format-v1', 'vector-1.fbk'), ring, key.id);
  });
});

describe.each([
  ['format-v2', 2],
  ['format-v3', 3],
])('%s known-answer vectors (committed; must stay readable forever)', (folder, version) => {
  it('reads vector-1.fbk (an archive) to exactly the expected records', async () => {
    const bytes = await load(folder, 'vector-1.fbk');
    const want = await expected(folder);
    expect(key.id).toBe(want.keyId);
    const { records, summary } = await openAllRecords(bytes, ring);
    expect(records.map((r) => ({ type: r.type, payload: r.payload.toString('utf8') }))).toEqual(
      want.records,
    );
    expect(want.records).toEqual((await expected('format-v1')).records);
    expect(summary.segments).toBeGreaterThan(1);
  });

  it('reads vector-1.fbm (a manifest) only as a manifest', async () => {
    const bytes = await load(folder, 'vector-1.fbm');
    const want = await expected(folder);
    const { records } = await openAllRecords(bytes, ring, { purpose: 'manifest' });
    expect(records.map((r) => r.type)).toEqual([RecordType.Manifest]);
    expect(parseJsonPayload(records[0]!)).toEqual(JSON.parse(want.manifest!));
    await expect(openAllRecords(bytes, ring)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    await expect(
      openAllRecords(await load(folder, 'vector-1.fbk'), ring, { purpose: 'manifest' }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('keeps the documented layout: purpose byte, and the data key wrapped by the HKDF wrap key', async () => {
    const archive = await load(folder, 'vector-1.fbk');
    const manifest = await load(folder, 'vector-1.fbm');
    for (const [bytes, purpose] of [
      [archive, 1],
      [manifest, 2],
    ] as const) {
      expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x46, 0x42, 0x4b, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(bytes.readUInt16BE(8)).toBe(version);
      expect(bytes[23]).toBe(purpose);
      expect(bytes.readUInt16BE(10)).toBe(1 + 17 + 12 + 48);
    }
    // Unwrap and decrypt segment 0 from the spec alone (docs/design.md §2, §4).
    const header = archive.subarray(0, 24);
    const idLength = archive[24]!;
    const keyId = archive.subarray(25, 25 + idLength);
    const nonce = archive.subarray(25 + idLength, 37 + idLength);
    const wrapped = archive.subarray(37 + idLength, 85 + idLength);
    const wrapKey = Buffer.from(
      hkdfSync(
        'sha256',
        Buffer.from(VECTOR_KEY_HEX, 'hex'),
        Buffer.alloc(0),
        'firebackup/v2/wrap-key',
        32,
      ),
    );
    const unwrap = createDecipheriv('aes-256-gcm', wrapKey, nonce, { authTagLength: 16 });
    unwrap.setAAD(Buffer.concat([header, Buffer.from([idLength]), keyId]));
    unwrap.setAuthTag(wrapped.subarray(32));
    const dataKey = Buffer.concat([unwrap.update(wrapped.subarray(0, 32)), unwrap.final()]);
    const at = 85 + idLength;
    const sealed = archive.subarray(at + 4, at + 4 + archive.readUInt32BE(at));
    const segmentNonce = Buffer.concat([header.subarray(16, 23), Buffer.from([0, 0, 0, 0, 0])]);
    const open = createDecipheriv('aes-256-gcm', dataKey, segmentNonce, { authTagLength: 16 });
    open.setAAD(header);
    open.setAuthTag(sealed.subarray(sealed.length - 16));
    const body = Buffer.concat([open.update(sealed.subarray(0, sealed.length - 16)), open.final()]);
    expect([0, 1]).toContain(body[0]); // coding byte: raw or Brotli
  });

  it('refuses a flip of every bit of its header and envelope', async () => {
    await expectEveryHeaderBitFlipRefused(await load(folder, 'vector-1.fbk'), ring, key.id);
  });

  it('carries the trailer digest of its version over the records as the spec encodes them', async () => {
    const want = await expected(folder);
    const { summary } = await openAllRecords(await load(folder, 'vector-1.fbk'), ring);
    // Each record: type (1 byte) ‖ payload length (4 bytes, big-endian) ‖ payload (§3).
    const stream = Buffer.concat(
      want.records.map(({ type, payload }) => {
        const prefix = Buffer.alloc(5);
        prefix[0] = type;
        prefix.writeUInt32BE(Buffer.byteLength(payload), 1);
        return Buffer.concat([prefix, Buffer.from(payload)]);
      }),
    );
    expect(summary.trailer.bytes).toBe(stream.length);
    if (version === 2) {
      expect(summary.trailer.sha256).toBe(createHash('sha256').update(stream).digest('hex'));
      expect(summary.trailer.xxh64).toBeUndefined();
    } else {
      const digest = (await xxhash()).h64Raw(stream, 0n).toString(16).padStart(16, '0');
      expect(summary.trailer).toEqual(want.trailer);
      expect(summary.trailer.xxh64).toBe(digest);
      expect(summary.trailer.sha256).toBeUndefined();
    }
  });
});

describe('browse directory v1 known-answer vectors (docs/design.md §7; must stay readable forever)', () => {
  const dir = path.join(fixtures, 'browse-directory-v1');
  const id = BROWSE_VECTOR_ID;

  it('keeps the documented layout: purpose 0x10, a header record (17) then entries (18)', async () => {
    const bytes = await readFile(path.join(dir, `${id}.fbx`));
    expect(bytes.readUInt16BE(8)).toBe(2);
    expect(bytes[23]).toBe(0x10);
    const { records } = await openAllRecords(bytes, ring, { purpose: 'browseDirectory' });
    expect(records.map((r) => r.type)).toEqual([
      RecordType.DirectoryHeader,
      RecordType.DirectoryEntries,
    ]);
    const archive = await readFile(path.join(dir, `${id}.fbk`));
    const header = parseJsonPayload<DirectoryHeader>(records[0]!);
    expect(header).toMatchObject({
      kind: 'firebackup.browse-directory',
      format: 1,
      backupId: id,
      documents: 40,
      archive: { header: archive.subarray(0, 24).toString('base64'), size: archive.length },
    });
    // Every listed offset is where a segment's length field says the previous one ends.
    const { offsets } = header.archive;
    for (let i = 0; i + 1 < offsets.length; i++) {
      expect(offsets[i]! + 4 + archive.readUInt32BE(offsets[i]!)).toBe(offsets[i + 1]);
    }
    const entry = parseJsonPayload<{ collection: string; ids: string[]; at: number[] }>(
      records[1]!,
    );
    expect(entry.collection).toBe('users');
    expect(entry.ids).toEqual(
      vectorDocuments()
        .map((d) => d.path.slice(6))
        .sort(),
    );
    // Neither file can stand in for the other.
    await expect(openAllRecords(bytes, ring)).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
    await expect(
      openAllRecords(archive, ring, { purpose: 'browseDirectory' }),
    ).rejects.toMatchObject({ code: 'ARCHIVE_CORRUPT' });
  });

  it('browses the vector backup through its directory to exactly its documents', async () => {
    const dest = new LocalBackend(dir);
    const index = await new BackupIndexCache(ring).get(id, () => resolveBackup(id, dest));
    expect(index.totalDocuments).toBe(40);
    const docs = vectorDocuments();
    expect(index.page('users', undefined, 100).ids).toEqual(
      docs.map((d) => d.path.slice(6)).sort(),
    );
    for (const doc of docs) expect(await index.document(doc.path)).toEqual(doc);
  });

  it('leaves the archive a plain format-2 archive that verifies as before', async () => {
    const { records, summary } = await openAllRecords(
      await readFile(path.join(dir, `${id}.fbk`)),
      ring,
    );
    expect(records).toHaveLength(41);
    expect(summary.trailer.counts).toEqual({ 'firestore.documents': 40 });
    expect(summary.segments).toBeGreaterThan(2);
  });
});
