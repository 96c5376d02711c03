import { backupHeaderSchema, type BackupHeader } from '../../shared/backups.js';
import { AppError } from '../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../shared/firestore.js';
import {
  ArchiveReader,
  emptySalvageReport,
  type ReadSummary,
  type SalvageReport,
} from '../archive/reader.js';
import { RecordType, parseJsonPayload, type RawRecord } from '../archive/records.js';
import type { Keyring } from '../keys/keyring.js';
import {
  bindingFor,
  checkDigest,
  checkHeader,
  checkKeyId,
  type ArchiveBinding,
  type PassBinding,
} from './bind-to-manifest.js';
import { decodeSourceRecord, type ScannedRecord } from './source-records.js';
import type { ProgressMeter } from './progress-meter.js';
import type { ResolvedBackup } from './resolve-backup.js';
import type { OperationContext } from './types.js';

/** A document as scanned: the parsed record and its exact JSON bytes (for NDJSON output). */
export interface ScannedDocument {
  doc: FirestoreDocumentRecord;
  json: Buffer;
}

/**
 * Reads one backup's archive from storage as typed records: the backup header first,
 * then documents. Every record is authenticated (by the archive reader) and checked for
 * shape here, so `verify`, `inspect` and `restore` share one definition of "valid".
 */
export class BackupScanner {
  header: BackupHeader | undefined;
  summary: ReadSummary | undefined;
  keyId: string | undefined;

  constructor(
    private readonly backup: ResolvedBackup,
    private readonly keyring: Keyring,
    private readonly options: {
      signal?: AbortSignal;
      meter?: ProgressMeter;
      /** What the archive must be (bind-to-manifest.ts); every read passes one. */
      binding?: ArchiveBinding;
      /** Ties the two reads of a restore together. */
      pass?: PassBinding;
      /**
       * restore --salvage: skip what does not authenticate and record it here (see
       * ArchiveReaderOptions.salvage). The header's backup id and the key id are still
       * checked; a lost header is recorded, and the digest cannot match a damaged archive.
       */
      salvage?: ScannerSalvage;
    } = {},
  ) {}

  /** The Firestore documents only (the other sources' records are read and checked too). */
  async *documents(): AsyncGenerator<ScannedDocument> {
    for await (const record of this.records()) {
      if (record.kind === 'firestore') yield record;
    }
  }

  /** Every record after the header, of every source, checked for shape. */
  async *records(): AsyncGenerator<ScannedRecord> {
    const { signal, meter, binding, pass } = this.options;
    const label = this.backup.label;
    const stream = await this.backup.destination.get(
      this.backup.archiveKey,
      signal ? { signal } : {},
    );
    const counted = (async function* () {
      for await (const chunk of stream as AsyncIterable<Uint8Array>) {
        meter?.add(0, chunk.length);
        yield chunk;
      }
    })();
    const reader = new ArchiveReader(counted, this.keyring, {
      onPrologue: (prologue) => {
        if (binding) checkKeyId(binding, label, prologue.keyId);
        pass?.hooks.onPrologue(prologue);
      },
      ...(pass ? { onSegment: pass.hooks.onSegment } : {}),
      ...(this.options.salvage
        ? { salvage: { report: this.options.salvage, accept: isValidRecord } }
        : {}),
    });
    const salvage = this.options.salvage;
    let first = true;
    try {
      for await (const record of reader.records()) {
        this.keyId ??= reader.keyId;
        if (signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
        if (first && salvage && record.type !== RecordType.BackupHeader) {
          // The header's segment was lost: its backup id cannot be checked.
          salvage.headerLost = true;
          first = false;
        }
        if (first) {
          this.header = this.parseHeader(record);
          // Before any document of the archive is released.
          if (binding) checkHeader(binding, label, this.header);
          first = false;
          continue;
        }
        if (record.type !== RecordType.FirestoreDocument) {
          const other = decodeSourceRecord(record);
          if (!other) {
            throw new AppError(
              'ARCHIVE_CORRUPT',
              `${this.backup.label}: unexpected record of type ${record.type}.`,
            );
          }
          yield other;
          continue;
        }
        const doc = parseDocument(record, this.backup.label);
        meter?.add(1);
        yield { kind: 'firestore', doc, json: record.payload };
      }
      if (reader.summary) {
        if (binding) checkDigest(binding, label, reader.summary);
        if (pass?.checking) pass.checkSecondPass(reader.summary);
      }
    } catch (caught) {
      const error = pass ? pass.explain(caught) : caught;
      if (
        error instanceof AppError &&
        error.code === 'ARCHIVE_CORRUPT' &&
        !error.message.startsWith(this.backup.label)
      ) {
        throw new AppError('ARCHIVE_CORRUPT', `${this.backup.label}: ${error.message}`);
      }
      throw error;
    }
    if (first && !salvage)
      throw new AppError(
        'ARCHIVE_CORRUPT',
        `${this.backup.label}: the archive holds no backup header.`,
      );
    this.summary = reader.summary;
    this.keyId = reader.keyId;
  }

  private parseHeader(record: RawRecord): BackupHeader {
    const parsed =
      record.type === RecordType.BackupHeader
        ? backupHeaderSchema.safeParse(parseJsonPayload(record))
        : undefined;
    if (!parsed?.success) {
      throw new AppError(
        'ARCHIVE_CORRUPT',
        `${this.backup.label}: the archive does not start with a valid backup header.`,
      );
    }
    return parsed.data;
  }
}

/** A salvaging scan's report: the reader's, and whether the backup header was lost. */
export interface ScannerSalvage extends SalvageReport {
  headerLost?: boolean;
}

export function newScannerSalvage(): ScannerSalvage {
  return emptySalvageReport();
}

/** Salvage: is this a valid record of its type (not bytes that look like a record prefix)? */
function isValidRecord(type: RecordType, payload: Buffer): boolean {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return false;
  }
  switch (type) {
    case RecordType.FirestoreDocument:
      return isDocument(value);
    case RecordType.BackupHeader:
      return backupHeaderSchema.safeParse(value).success;
    case RecordType.Trailer:
      return typeof (value as { records?: unknown } | null)?.records === 'number';
    case RecordType.AuthHashConfig:
    case RecordType.AuthUser:
    case RecordType.RtdbNode:
    case RecordType.StorageObject:
      // Storage content (raw bytes) is never taken: reading resumes at the next object.
      try {
        return decodeSourceRecord({ type, payload }) !== undefined;
      } catch {
        return false;
      }
    default:
      return false;
  }
}

export function parseDocument(record: RawRecord, label: string): FirestoreDocumentRecord {
  const doc = parseJsonPayload<FirestoreDocumentRecord>(record);
  if (!isDocument(doc)) {
    throw new AppError('ARCHIVE_CORRUPT', `${label}: a document record is malformed.`);
  }
  return doc;
}

function isDocument(doc: unknown): doc is FirestoreDocumentRecord {
  const d = doc as FirestoreDocumentRecord | null;
  return !(
    typeof d !== 'object' ||
    d === null ||
    typeof d.path !== 'string' ||
    d.path.split('/').length % 2 !== 0 ||
    typeof d.createTime !== 'string' ||
    typeof d.updateTime !== 'string' ||
    typeof d.fields !== 'object' ||
    d.fields === null
  );
}

/** Reads a whole backup, checking everything; returns what it found. */
export async function scanToEnd(scanner: BackupScanner): Promise<{ documents: number }> {
  let documents = 0;
  for await (const record of scanner.records()) if (record.kind === 'firestore') documents++;
  return { documents };
}

/**
 * A scanner that refuses any archive but the one its backup describes (its manifest, or
 * the id its name carries), telling the user through `ctx` what could not be checked.
 */
export async function openBoundScanner(
  backup: ResolvedBackup,
  keyring: Keyring,
  ctx: OperationContext,
  extra: { meter?: ProgressMeter; pass?: PassBinding } = {},
): Promise<{ scanner: BackupScanner; binding: ArchiveBinding }> {
  const binding = await bindingFor(backup, keyring);
  if (binding.note) ctx.onNotice?.(binding.note);
  const scanner = new BackupScanner(backup, keyring, {
    binding,
    ...extra,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  });
  return { scanner, binding };
}
