import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, inject, it } from 'vitest';
import { HEADER_LENGTH, TAG_LENGTH } from '../../src/engine/archive/format.js';
import { RECORD_PREFIX_LENGTH } from '../../src/engine/archive/records.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { inspectBackup } from '../../src/engine/operations/inspect.js';
import { verifyBackup } from '../../src/engine/operations/verify.js';
import { resolveBackup } from '../../src/engine/operations/resolve-backup.js';
import { restoreToFirestore } from '../../src/engine/operations/restore.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import type { GetOptions, StorageBackend } from '../../src/engine/storage/backend.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { openS3 } from '../../src/engine/storage/s3/open.js';
import { FaultyBackend } from '../../src/engine/storage/testing/faulty-backend.js';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { testProject } from '../helpers/firestore-seed.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const host = inject('firestoreEmulatorHost');
const s3 = inject('s3Endpoint');

/** How many documents a project holds: one query over every collection. */
async function countDocuments(project: string): Promise<number> {
  const conn = await openFirestore({ projectId: project, emulatorHost: host });
  try {
    const stream = conn.client.runQuery(
      { parent: conn.documentsRoot, structuredQuery: { from: [{ allDescendants: true }] } },
      conn.callOptions(),
    );
    let n = 0;
    for await (const r of stream as AsyncIterable<{ document?: unknown }>) if (r.document) n++;
    return n;
  } finally {
    await conn.close();
  }
}

/**
 * Storage that serves the stored bytes on the first read of an object and something else
 * on the second: what a hostile or broken storage layer (or an overwrite between the
 * verifying and the writing pass) looks like to a restore.
 */
class SecondReadDiffers extends FaultyBackend {
  private reads = 0;
  constructor(
    inner: StorageBackend,
    private readonly key: string,
    private readonly second: (bytes: Buffer) => Buffer,
  ) {
    super(inner);
  }

  override async get(key: string, options?: GetOptions): Promise<Readable> {
    const stream = await super.get(key, options);
    if (key !== this.key || ++this.reads === 1) return stream;
    const parts: Buffer[] = [];
    for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
    return Readable.from([this.second(Buffer.concat(parts))]);
  }
}

/** Where each segment of an archive starts and ends (docs/design.md §2.3). */
function segmentsOf(archive: Buffer): Array<{ start: number; end: number }> {
  let at = HEADER_LENGTH + archive.readUInt16BE(10);
  const out: Array<{ start: number; end: number }> = [];
  while (at < archive.length) {
    const end = at + 4 + archive.readUInt32BE(at);
    out.push({ start: at, end });
    at = end;
  }
  return out;
}

function flipTagOf(segment: number): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const copy = Buffer.from(bytes);
    const { end } = segmentsOf(copy)[segment]!;
    copy[end - TAG_LENGTH + 3]! ^= 0x04;
    return copy;
  };
}

/** Documents whose records end within the first `segments` blocks of `blockSize`. */
function documentsWithin(
  header: number,
  docs: FirestoreDocumentRecord[],
  segments: number,
  blockSize: number,
) {
  let at = header;
  return docs.filter((d) => {
    at += RECORD_PREFIX_LENGTH + Buffer.byteLength(JSON.stringify(d));
    return at <= segments * blockSize;
  }).length;
}

describe.skipIf(!host)('restore reads only the archive its backup describes (issue #7)', () => {
  const key = MasterKey.generate();
  const keyring = new Keyring(key);
  const docs = sampleDocuments(3000);
  const target = () => ({ projectId: testProject('bind'), emulatorHost: host });

  const destinations: Array<{ name: string; open: () => Promise<StorageBackend> }> = [
    {
      name: 'a local folder',
      open: async () => new LocalBackend(await mkdtemp(path.join(tmpdir(), 'fb-rbind-'))),
    },
  ];
  if (s3) {
    destinations.push({
      name: 's3rver',
      open: async () =>
        openS3(new URL(`s3://${TEST_BUCKET}/bind-${randomBytes(3).toString('hex')}`), {
          endpoint: s3,
          ...S3RVER_CREDENTIALS,
        }),
    });
  }
  for (const d of destinations) {
    it(`refuses "restore latest" of B on ${d.name} when A.fbk was copied over B.fbk, writing nothing`, async () => {
      const dest = await d.open();
      const a = await craftBackup(dest, key, docs.slice(0, 500), {
        createdAt: new Date('2026-01-01T00:00:00Z'),
      });
      const b = await craftBackup(dest, key, docs, { createdAt: new Date('2026-02-01T00:00:00Z') });
      await dest.put(archiveKeyOf(b.id), a.archive);
      const to = target();
      const error = await restoreToFirestore({
        backup: await resolveBackup('latest', dest, { keyring }),
        keyring,
        target: to,
        mode: 'create',
      }).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: 'ARCHIVE_MISMATCH',
        message: expect.stringContaining(`holds backup ${a.id}`),
      });
      expect(await countDocuments(to.projectId)).toBe(0);
      // inspect and verify refuse it too.
      const backup = await resolveBackup(b.id, dest);
      await expect(inspectBackup(backup, keyring)).rejects.toMatchObject({
        code: 'ARCHIVE_MISMATCH',
      });
      expect(await verifyBackup(backup, keyring)).toMatchObject({
        ok: false,
        error: {
          code: 'ARCHIVE_MISMATCH',
          message: expect.stringContaining(`holds backup ${a.id}`),
        },
      });
    });
  }

  describe('when the storage serves other bytes on the second (writing) read', () => {
    const blockSize = 4096;

    /** Restores backup B through storage whose second read of B's archive is `second`. */
    async function attempt(second: (id: string) => Promise<(bytes: Buffer) => Buffer>) {
      const inner = new LocalBackend(await mkdtemp(path.join(tmpdir(), 'fb-rbind2-')));
      const b = await craftBackup(inner, key, docs, { blockSize });
      const dest = new SecondReadDiffers(inner, archiveKeyOf(b.id), await second(b.id));
      const to = target();
      const error = await restoreToFirestore({
        backup: await resolveBackup(b.id, dest),
        keyring,
        target: to,
        mode: 'create',
      }).catch((e: unknown) => e);
      return { error, written: await countDocuments(to.projectId) };
    }

    it('a flipped tag in the first segment: nothing written, the change named', async () => {
      const { error, written } = await attempt(async () => flipTagOf(0));
      expect(error).toMatchObject({
        code: 'ARCHIVE_MISMATCH',
        message: expect.stringMatching(/changed while it was being restored.*segment 0/),
      });
      expect(written).toBe(0);
    });

    it('a flipped tag in a later segment: nothing from that segment on is written', async () => {
      const later = 20;
      const { error, written } = await attempt(async () => flipTagOf(later));
      expect(error).toMatchObject({
        code: 'ARCHIVE_MISMATCH',
        message: expect.stringMatching(/changed while it was being restored.*segment 20/),
      });
      // Only records of segments 0-19 (authenticated in the first pass, identical in the
      // second) can have been released: at most the documents that end within them.
      expect(written).toBeLessThanOrEqual(
        documentsWithin(RECORD_PREFIX_LENGTH, docs, later, blockSize),
      );
    });

    it('another valid archive of the same backup swapped in: nothing written, the change named', async () => {
      const { error, written } = await attempt(async (id) => {
        // The same backup id, the same key: only the key holder could make this one.
        const scratch = new LocalBackend(await mkdtemp(path.join(tmpdir(), 'fb-rbind3-')));
        const swapped = await craftBackup(scratch, key, docs.slice(0, 2900), { blockSize, id });
        return () => swapped.archive;
      });
      expect(error).toMatchObject({
        code: 'ARCHIVE_MISMATCH',
        message: expect.stringMatching(/changed while it was being restored/),
      });
      expect(written).toBe(0);
    });
  });
});
