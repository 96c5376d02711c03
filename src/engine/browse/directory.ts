import type { BackupManifest } from '../../shared/backups.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { RecordType, parseJsonPayload, type RawRecord } from '../archive/records.js';
import { Readable } from 'node:stream';
import { peekKeyId, readArchivePrefix, type ReadLimits } from '../archive/reader.js';
import { rewrapPrefix } from '../archive/rewrap.js';
import { openAllRecords, sealJsonRecords } from '../archive/small-archive.js';
import type { ArchiveLayout } from '../archive/writer.js';
import { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import { browseDirectoryKeyOf } from '../operations/backup-names.js';
import { bodyToBuffer, type StorageBackend } from '../storage/backend.js';

/**
 * The browse directory of a backup, `<id>.fbx` (docs/design.md §7, ADR 0008): every
 * document's id, sorted per collection, with the position of its record in the archive's
 * plaintext record stream, and where the archive's segments are. Written at backup time
 * beside the archive (which it leaves unchanged), so a browser that was never on the
 * machine that made the backup reads three small objects and then only the segments of
 * the documents it opens.
 */

export const DIRECTORY_KIND = 'firebackup.browse-directory';
/** Ids per entry record: one collection of a million documents is a hundred records. */
const IDS_PER_ENTRY = 10_000;
/** The writer holds the directory in memory: beyond these it writes none (§7.1). */
export const DIRECTORY_MAX_DOCUMENTS = 2_000_000;
export const DIRECTORY_MAX_ID_BYTES = 64 * 1024 * 1024;
/** A directory is read whole into memory: bounded like a manifest, only larger. */
const DIRECTORY_READ_LIMITS: ReadLimits = {
  maxBlockSize: 1024 * 1024,
  maxSegments: 512,
  maxPlaintextBytes: 256 * 1024 * 1024,
};

export interface DirectoryHeader {
  kind: typeof DIRECTORY_KIND;
  format: 1;
  backupId: string;
  archive: { header: string; size: number; segments: number; offsets: number[] };
  documents: number;
}

interface DirectoryEntry {
  collection: string;
  ids: string[];
  /** Record positions, delta-coded: the first absolute, each next one the difference. */
  at: number[];
}

/** A directory as read and checked: ids sorted per collection, absolute positions. */
export interface BrowseDirectory {
  header: DirectoryHeader;
  /** The archive's 24 header bytes, from `header.archive.header`. */
  archiveHeader: Buffer;
  collections: Map<string, { ids: string[]; at: number[] }>;
}

/**
 * Collects the directory while a backup writes its documents: `add` each document with
 * the writer's `recordOffset` just before its record. Gives up (and `build` returns
 * undefined) past the memory caps, leaving the backup itself unaffected.
 */
export class DirectoryBuilder {
  /**
   * Per collection: ids and record positions as they come, and whether the ids came in
   * order. The export reads by __name__, so they mostly do, and then need no sort.
   */
  private readonly collections = new Map<
    string,
    { ids: string[]; at: number[]; sorted: boolean }
  >();
  private documents = 0;
  private idBytes = 0;
  /** Where the record stream is after the last document: what the segments must cover. */
  private end = 0;
  overflowed = false;

  add(path: string, position: number, recordLength: number): void {
    if (this.overflowed) return;
    this.documents++;
    this.idBytes += path.length;
    if (this.documents > DIRECTORY_MAX_DOCUMENTS || this.idBytes > DIRECTORY_MAX_ID_BYTES) {
      this.overflowed = true;
      this.collections.clear();
      return;
    }
    const cut = path.lastIndexOf('/');
    const collection = path.slice(0, cut);
    let docs = this.collections.get(collection);
    if (!docs) this.collections.set(collection, (docs = { ids: [], at: [], sorted: true }));
    const id = path.slice(cut + 1);
    const previous = docs.ids.at(-1);
    if (docs.sorted && previous !== undefined && byId(previous, id) >= 0) docs.sorted = false;
    docs.ids.push(id);
    docs.at.push(position);
    this.end = position + recordLength;
  }

  /** The directory's records for the finished archive, or undefined past the caps. */
  build(
    backupId: string,
    archive: { size: number; layout: ArchiveLayout },
  ): Array<{ type: RecordType; value: unknown }> | undefined {
    if (this.overflowed) return undefined;
    const { layout } = archive;
    const segments = layout.segmentOffsets.length - 1;
    // Segments up to the one holding the last document byte; none without documents.
    const covered = this.documents ? Math.floor((this.end - 1) / layout.blockSize) + 1 : 0;
    const header: DirectoryHeader = {
      kind: DIRECTORY_KIND,
      format: 1,
      backupId,
      archive: {
        header: layout.header.toString('base64'),
        size: archive.size,
        segments,
        offsets: layout.segmentOffsets.slice(0, covered + 1),
      },
      documents: this.documents,
    };
    const records: Array<{ type: RecordType; value: unknown }> = [
      { type: RecordType.DirectoryHeader, value: header },
    ];
    for (const collection of [...this.collections.keys()].sort(byId)) {
      const { ids, at } = sortedRuns(this.collections.get(collection)!);
      for (let from = 0; from < ids.length; from += IDS_PER_ENTRY) {
        const run = at.slice(from, from + IDS_PER_ENTRY);
        const entry: DirectoryEntry = {
          collection,
          ids: ids.slice(from, from + IDS_PER_ENTRY),
          at: run.map((p, i) => (i === 0 ? p : p - run[i - 1]!)),
        };
        records.push({ type: RecordType.DirectoryEntries, value: entry });
      }
    }
    return records;
  }
}

/**
 * Moves a stored directory onto `current` (keys rewrap, docs/design.md §6): its envelope
 * re-sealed, its segments as they are. Read back with the current key before the put.
 * False when there is none, or it is already under `current`.
 */
export async function rewrapBrowseDirectory(
  destination: StorageBackend,
  backupId: string,
  keyring: Keyring,
  current: MasterKey,
  signal?: AbortSignal,
): Promise<boolean> {
  const key = browseDirectoryKeyOf(backupId);
  let bytes: Buffer;
  try {
    bytes = await bodyToBuffer(await destination.get(key, signal ? { signal } : {}));
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return false;
    throw error;
  }
  const prefix = await readArchivePrefix(Readable.from([bytes]));
  if (prefix.envelope.keyId === current.id) return false;
  const rewrapped = Buffer.concat([
    rewrapPrefix(prefix, keyring, current),
    bytes.subarray(prefix.bytes.length),
  ]);
  await openAllRecords(rewrapped, new Keyring(current), {
    purpose: 'browseDirectory',
    limits: DIRECTORY_READ_LIMITS,
    expectKeyId: current.id,
  });
  await destination.put(key, rewrapped, {
    contentLength: rewrapped.length,
    ...(signal ? { signal } : {}),
  });
  return true;
}

/** The key id a stored directory is sealed under; undefined when there is none. */
export async function browseDirectoryKeyId(
  destination: StorageBackend,
  backupId: string,
): Promise<string | undefined> {
  try {
    return await peekKeyId(await destination.get(browseDirectoryKeyOf(backupId)));
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}

/** A collection's ids in Firestore order with their positions; sorted only if they came out of order. */
function sortedRuns(docs: { ids: string[]; at: number[]; sorted: boolean }): {
  ids: string[];
  at: number[];
} {
  if (docs.sorted) return docs;
  const order = docs.ids.map((_, i) => i).sort((a, b) => byId(docs.ids[a]!, docs.ids[b]!));
  return { ids: order.map((i) => docs.ids[i]!), at: order.map((i) => docs.at[i]!) };
}

/**
 * Seals a directory's records. Brotli quality 3: as small as 5 on ids (which barely
 * compress) in about half the time, which a backup waits for.
 */
export async function sealBrowseDirectory(
  key: MasterKey,
  records: ReadonlyArray<{ type: RecordType; value: unknown }>,
): Promise<Buffer> {
  const { bytes } = await sealJsonRecords(key, records, {
    purpose: 'browseDirectory',
    blockSize: 1024 * 1024,
    quality: 3,
  });
  return bytes;
}

/** Stores a sealed directory (after the archive is read back, before the manifest). */
export async function putBrowseDirectory(
  destination: StorageBackend,
  backupId: string,
  bytes: Buffer,
  signal?: AbortSignal,
): Promise<void> {
  await destination.put(browseDirectoryKeyOf(backupId), bytes, {
    contentLength: bytes.length,
    ...(signal ? { signal } : {}),
  });
}

/** Seals and stores a directory. */
export async function writeBrowseDirectory(
  destination: StorageBackend,
  backupId: string,
  key: MasterKey,
  records: ReadonlyArray<{ type: RecordType; value: unknown }>,
  signal?: AbortSignal,
): Promise<void> {
  await putBrowseDirectory(destination, backupId, await sealBrowseDirectory(key, records), signal);
}

/**
 * Reads, authenticates and checks the browse directory of a backup against its
 * manifest. Undefined when there is none (an older backup): browse by a full read.
 * A damaged directory is ARCHIVE_CORRUPT and another backup's ARCHIVE_MISMATCH, both
 * naming the object: never a silent fallback that would hide tampering.
 */
export async function readBrowseDirectory(
  destination: StorageBackend,
  manifest: BackupManifest,
  keyring: Keyring,
): Promise<BrowseDirectory | undefined> {
  const id = manifest.backupId;
  const key = browseDirectoryKeyOf(id);
  let stream;
  try {
    stream = await destination.get(key);
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  let records: RawRecord[];
  try {
    ({ records } = await openAllRecords(stream, keyring, {
      purpose: 'browseDirectory',
      limits: DIRECTORY_READ_LIMITS,
    }));
  } catch (error) {
    // Sealed under a key not held: re-wrapped by a FireBackup that predates directories
    // (the archive moved to a new key, the directory not). Not tampering (a forger holds
    // no key at all), and the full read authenticates everything it shows.
    if (isAppError(error) && error.code === 'KEY_NOT_FOUND') return undefined;
    if (isAppError(error) && (error.code === 'ARCHIVE_CORRUPT' || error.code === 'INTEGRITY')) {
      throw damaged(id, key, error.message);
    }
    throw error;
  }
  return checkDirectory(records, manifest, key);
}

function checkDirectory(
  records: RawRecord[],
  manifest: BackupManifest,
  key: string,
): BrowseDirectory | undefined {
  const id = manifest.backupId;
  const bad = (what: string): AppError =>
    damaged(id, key, `it is not a valid directory (${what}).`);
  const [first, ...rest] = records;
  if (first?.type !== RecordType.DirectoryHeader) throw bad('no header');
  const header = parseJsonPayload<DirectoryHeader>(first);
  // A later directory format (authenticated, so really written by a newer FireBackup):
  // not understood here, so browse by the full read, which needs no directory.
  if (header.kind === DIRECTORY_KIND && header.format !== 1) return undefined;
  const offsets = header.archive?.offsets;
  const archiveHeader = Buffer.from(String(header.archive?.header ?? ''), 'base64');
  if (
    header.kind !== DIRECTORY_KIND ||
    header.format !== 1 ||
    !Array.isArray(offsets) ||
    archiveHeader.length !== 24 ||
    !Number.isSafeInteger(header.archive.segments) ||
    offsets.length - 1 > header.archive.segments ||
    !offsets.every((o, i) => Number.isSafeInteger(o) && (i === 0 || o > offsets[i - 1]!))
  ) {
    throw bad('its header');
  }
  // Bound to the backup it was found beside: another backup's directory (sealed with the
  // same key) put in its place would list documents this archive does not hold.
  const counted = manifest.counts['firestore.documents'] ?? 0;
  if (
    header.backupId !== id ||
    header.archive.size !== manifest.archive.size ||
    header.documents !== counted
  ) {
    throw new AppError(
      'ARCHIVE_MISMATCH',
      `The browse directory ${key} does not describe backup ${id} (it names backup ${header.backupId}, ${header.documents} documents, an archive of ${header.archive.size} bytes; the manifest says ${counted} documents, ${manifest.archive.size} bytes): it was put in the place of this backup's. Refused: nothing from it was shown. Run \`firebackup verify ${id}\` on the backup, and make sure only FireBackup writes to this destination.`,
    );
  }
  const blockSize = archiveHeader.readUInt32BE(12);
  const covered = (offsets.length - 1) * blockSize;
  const collections = new Map<string, { ids: string[]; at: number[] }>();
  let documents = 0;
  for (const record of rest) {
    if (record.type !== RecordType.DirectoryEntries) throw bad(`a record of type ${record.type}`);
    const entry = parseJsonPayload<DirectoryEntry>(record);
    const { collection, ids, at } = entry;
    if (
      typeof collection !== 'string' ||
      collection.split('/').length % 2 !== 1 ||
      !Array.isArray(ids) ||
      !Array.isArray(at) ||
      ids.length === 0 ||
      ids.length !== at.length
    ) {
      throw bad('an entry');
    }
    let docs = collections.get(collection);
    if (!docs) collections.set(collection, (docs = { ids: [], at: [] }));
    let position = 0;
    for (let i = 0; i < ids.length; i++) {
      const docId = ids[i];
      const previous = docs.ids.at(-1);
      position = i === 0 ? at[0]! : position + at[i]!;
      if (
        typeof docId !== 'string' ||
        !docId ||
        docId.includes('/') ||
        (previous !== undefined && byId(previous, docId) >= 0) ||
        !Number.isSafeInteger(position) ||
        position < 0 ||
        position >= covered
      ) {
        throw bad(`document ${collection}/${String(docId)}`);
      }
      docs.ids.push(docId);
      docs.at.push(position);
    }
    documents += ids.length;
  }
  if (documents !== header.documents) throw bad('its count');
  return { header, archiveHeader, collections };
}

function damaged(id: string, key: string, why: string): AppError {
  return new AppError(
    'ARCHIVE_CORRUPT',
    `The browse directory of backup ${id} (${key}) is damaged: ${why} Nothing from it was shown. The archive itself may be intact: run \`firebackup verify ${id}\`; deleting ${key} makes the backup browsable again by a full read.`,
  );
}

/** Firestore orders ids by their UTF-8 bytes; for ids this is code-point order. */
export function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
