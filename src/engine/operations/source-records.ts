/**
 * The archive side of the Auth and Storage sources (docs/design.md §3.5, §3.6): writing
 * their records, decoding them when read back, and splitting a scanned record stream
 * into per-source sections (records of one source are contiguous, in the header's
 * `sources` order), so one authenticated pass can feed each source's restore in turn.
 */
import { AppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import { RecordType, parseJsonPayload, type RawRecord } from '../archive/records.js';
import type { ArchiveWriter } from '../archive/writer.js';
import type { AuthConnection } from '../sources/auth/connection.js';
import {
  exportUsers,
  listTenants,
  readHashConfig,
  type HashConfigSource,
} from '../sources/auth/export.js';
import {
  parseHashConfigRecord,
  parseUserRecord,
  type AuthHashConfigRecord,
  type AuthUserRecord,
} from '../sources/auth/records.js';
import { parseRtdbRecord, type RtdbRecord } from '../sources/rtdb/records.js';
import {
  parseObjectRecord,
  type StorageItem,
  type StorageObjectRecord,
} from '../sources/storage/records.js';

export const SOURCE_NAMES = ['firestore', 'auth', 'rtdb', 'storage'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** `--sources firestore,auth,storage` → the list, checked. */
export function parseSources(text: string): SourceName[] {
  const names = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  const wrong = names.filter((n) => !(SOURCE_NAMES as readonly string[]).includes(n));
  if (wrong.length > 0 || names.length === 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Unknown source(s) ${wrong.join(', ') || '(none given)'}. Choose from: ${SOURCE_NAMES.join(', ')}.`,
    );
  }
  // Archive order, whatever the order given.
  return SOURCE_NAMES.filter((n) => names.includes(n));
}

/** Called per record written, with the payload size. */
type OnRecord = (bytes: number) => void;

/**
 * The Auth section: per scope (the project's own users, then each tenant's), its hash
 * configuration, then every user of it (each scope cross-checked by a second listing).
 */
export async function writeAuthRecords(
  writer: ArchiveWriter,
  conn: AuthConnection,
  options: {
    hashConfigSource?: HashConfigSource;
    signal?: AbortSignal;
    /** Per user written: its size, and the user (the cross-checks take its uid). */
    onUser?: (bytes: number, user: AuthUserRecord) => void;
  } = {},
): Promise<{ users: number; tenants: number }> {
  const tenants = await listTenants(conn, options.signal);
  let users = 0;
  for (const tenantId of [undefined, ...tenants]) {
    const config = await (options.hashConfigSource ?? readHashConfig)(conn, tenantId);
    await writer.writeJson(RecordType.AuthHashConfig, config);
    for await (const user of exportUsers(conn, {
      hashConfig: config.hashConfig,
      ...(tenantId ? { tenantId } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      const bytes = await writer.writeText(RecordType.AuthUser, JSON.stringify(user));
      users++;
      options.onUser?.(bytes, user);
    }
  }
  return { users, tenants: tenants.length };
}

/** The Storage section: each object record, then its content records. */
export async function writeStorageRecords(
  writer: ArchiveWriter,
  items: AsyncIterable<StorageItem>,
  options: {
    /** Per object record written (the cross-checks take its bucket and name). */
    onObject?: (record: StorageObjectRecord) => void;
    onContent?: OnRecord;
  } = {},
): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for await (const item of items) {
    if (item.kind === 'object') {
      await writer.writeJson(RecordType.StorageObject, item.record);
      objects++;
      options.onObject?.(item.record);
    } else {
      const length = item.bytes.length;
      await writer.write(RecordType.StorageContent, item.bytes);
      // The writer has copied the bytes into its block once write resolves: the
      // export may fill this buffer again.
      item.release?.();
      bytes += length;
      options.onContent?.(length);
    }
  }
  return { objects, bytes };
}

/** A record of any source, decoded and checked; `json` is the payload as stored. */
export type ScannedRecord =
  | { kind: 'firestore'; doc: FirestoreDocumentRecord; json: Buffer }
  | { kind: 'auth-config'; record: AuthHashConfigRecord; json: Buffer }
  | { kind: 'auth-user'; record: AuthUserRecord; json: Buffer }
  | { kind: 'rtdb'; record: RtdbRecord; json: Buffer }
  | { kind: 'storage-object'; record: StorageObjectRecord; json: Buffer }
  | { kind: 'storage-content'; bytes: Buffer };

export function sourceOf(record: ScannedRecord): SourceName {
  if (record.kind === 'firestore' || record.kind === 'rtdb') return record.kind;
  return record.kind.startsWith('auth') ? 'auth' : 'storage';
}

/** Decodes an Auth or Storage record; undefined for the types it does not own. */
export function decodeSourceRecord(raw: RawRecord): ScannedRecord | undefined {
  switch (raw.type) {
    case RecordType.AuthHashConfig:
      return {
        kind: 'auth-config',
        record: parseHashConfigRecord(parseJsonPayload(raw)),
        json: raw.payload,
      };
    case RecordType.AuthUser:
      return {
        kind: 'auth-user',
        record: parseUserRecord(parseJsonPayload(raw)),
        json: raw.payload,
      };
    case RecordType.RtdbNode:
      return { kind: 'rtdb', record: parseRtdbRecord(parseJsonPayload(raw)), json: raw.payload };
    case RecordType.StorageObject:
      return {
        kind: 'storage-object',
        record: parseObjectRecord(parseJsonPayload(raw)),
        json: raw.payload,
      };
    case RecordType.StorageContent:
      if (raw.payload.length === 0) {
        throw new AppError('ARCHIVE_CORRUPT', 'An empty Storage content record.');
      }
      return { kind: 'storage-content', bytes: raw.payload };
    default:
      return undefined;
  }
}

/**
 * The Auth section of a record stream as the Auth restore takes it, scope by scope (the
 * project's users, then each tenant's): the hash configuration, which must come first,
 * and the users under it. Each scope's users must be consumed (or abandoned: the rest
 * is skipped) before the next scope is asked for.
 */
export async function* authScopes(
  records: AsyncIterable<ScannedRecord>,
): AsyncGenerator<{ hashConfig: AuthHashConfigRecord; users: AsyncGenerator<AuthUserRecord> }> {
  const it = records[Symbol.asyncIterator]();
  let next = await it.next();
  while (!next.done) {
    if (next.value.kind !== 'auth-config') {
      throw new AppError(
        'ARCHIVE_CORRUPT',
        'The Auth users in the archive are not preceded by their hash configuration.',
      );
    }
    const hashConfig = next.value.record;
    next = await it.next();
    const users = (async function* () {
      while (!next.done && next.value.kind === 'auth-user') {
        const user = next.value.record;
        next = await it.next();
        yield user;
      }
    })();
    yield { hashConfig, users };
    while (!next.done && next.value.kind === 'auth-user') next = await it.next();
  }
}

/** The Realtime Database section: each record's JSON, written as it comes (bounded by the export). */
export async function writeRtdbRecords(
  writer: ArchiveWriter,
  records: AsyncIterable<{ json: string } | { bytes: Buffer }>,
  onRecord?: OnRecord,
): Promise<number> {
  let n = 0;
  for await (const record of records) {
    // From the reader worker the records arrive already encoded.
    let bytes: number;
    if ('bytes' in record) {
      await writer.write(RecordType.RtdbNode, record.bytes);
      bytes = record.bytes.length;
    } else {
      bytes = await writer.writeText(RecordType.RtdbNode, record.json);
    }
    n++;
    onRecord?.(bytes);
  }
  return n;
}

/** The Realtime Database section as the RTDB restore takes it. */
export async function* rtdbRecords(
  records: AsyncIterable<ScannedRecord>,
): AsyncGenerator<RtdbRecord> {
  for await (const r of records) if (r.kind === 'rtdb') yield r.record;
}

/** The Storage section as the Storage restore takes it. */
export async function* storageItems(
  records: AsyncIterable<ScannedRecord>,
): AsyncGenerator<StorageItem> {
  for await (const r of records) {
    if (r.kind === 'storage-object') yield { kind: 'object', record: r.record };
    else if (r.kind === 'storage-content') yield { kind: 'content', bytes: r.bytes };
  }
}

/**
 * Splits a stream into per-source sections, in archive order. Each section must be
 * consumed (or abandoned: what is left is skipped) before the next is asked for. A
 * source that appears twice is a damaged archive.
 */
export async function* sections(
  records: AsyncIterable<ScannedRecord>,
): AsyncGenerator<{ source: SourceName; records: AsyncGenerator<ScannedRecord> }> {
  const it = records[Symbol.asyncIterator]();
  let next = await it.next();
  const seen = new Set<SourceName>();
  while (!next.done) {
    const source = sourceOf(next.value);
    if (seen.has(source)) {
      throw new AppError(
        'ARCHIVE_CORRUPT',
        `The ${source} records of the archive are not contiguous.`,
      );
    }
    seen.add(source);
    const section = (async function* () {
      while (!next.done && sourceOf(next.value) === source) {
        const value = next.value;
        next = await it.next();
        yield value;
      }
    })();
    yield { source, records: section };
    while (!next.done && sourceOf(next.value) === source) next = await it.next();
  }
}
