import { corrupt } from './format.js';

/** Record types of docs/design.md §3. */
export const RecordType = {
  BackupHeader: 1,
  FirestoreDocument: 2,
  AuthHashConfig: 3,
  AuthUser: 4,
  /** A Realtime Database instance, subtree or page of children (§3.7). */
  RtdbNode: 5,
  StorageObject: 6,
  /** Raw bytes, not JSON: a piece of the preceding Storage object's content. */
  StorageContent: 7,
  Manifest: 16,
  /** Only in browse directories (.fbx, docs/design.md §7): the header, then entries. */
  DirectoryHeader: 17,
  DirectoryEntries: 18,
  Trailer: 255,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const KNOWN_TYPES = new Set<number>(Object.values(RecordType));
/** Names used for per-type counts in trailers and manifests. */
export const COUNT_NAMES: Partial<Record<RecordType, string>> = {
  [RecordType.FirestoreDocument]: 'firestore.documents',
  [RecordType.AuthUser]: 'auth.users',
  [RecordType.RtdbNode]: 'rtdb.records',
  [RecordType.StorageObject]: 'storage.objects',
};

export const RECORD_PREFIX_LENGTH = 5;
export const MAX_RECORD_PAYLOAD = 64 * 1024 * 1024;

export interface RawRecord {
  type: RecordType;
  payload: Buffer;
}

export function encodeRecordPrefix(type: RecordType, payloadLength: number): Buffer {
  if (payloadLength > MAX_RECORD_PAYLOAD) {
    throw corrupt(
      `A record of ${payloadLength} bytes exceeds the format's limit of ${MAX_RECORD_PAYLOAD}.`,
    );
  }
  const prefix = Buffer.allocUnsafe(RECORD_PREFIX_LENGTH);
  prefix[0] = type;
  prefix.writeUInt32BE(payloadLength, 1);
  return prefix;
}

/**
 * Splits the decompressed plaintext stream into records, whatever the block boundaries.
 *
 * A record that spans blocks is kept as a list of pieces (views of the blocks, no copy)
 * and joined once, when its last byte arrives: copying is linear in the stream, where
 * joining the partial record on every block was quadratic in the record's size.
 * Holds at most one incomplete record (≤ MAX_RECORD_PAYLOAD) between calls.
 */
export class RecordParser {
  /**
   * Salvage mode only (set by ArchiveReader): tells a real record from bytes that merely
   * look like a record prefix, when looking for the next record after a gap. It must
   * take JSON records only: a candidate that cannot be JSON is rejected before it.
   */
  constructor(private readonly accept?: (type: RecordType, payload: Buffer) => boolean) {}

  /** Salvage: partial records dropped at gaps, and bytes skipped looking for the next record. */
  droppedRecords = 0;
  resyncBytes = 0;
  /** Salvage: after a gap, the bytes not yet placed (from the first candidate boundary). */
  private searching: Buffer | undefined;
  private pending: Buffer[] = [];
  private pendingLength = 0;
  /** The whole length (prefix included) of the pending record, once its prefix is in. */
  private pendingTotal: number | undefined;
  /** Bytes copied to join the pieces of records that span blocks. */
  bytesCopied = 0;

  /**
   * Salvage: the stream has a gap here (a segment that did not authenticate). The record
   * that spanned into it is dropped; the next push looks for the next record boundary.
   */
  gap(): void {
    if (this.pendingLength > 0) {
      this.droppedRecords++;
      this.resyncBytes += this.pendingLength;
    }
    this.resyncBytes += this.searching?.length ?? 0;
    this.pending = [];
    this.pendingLength = 0;
    this.pendingTotal = undefined;
    this.searching = Buffer.alloc(0);
  }

  *push(block: Buffer): Generator<RawRecord> {
    if (this.searching) {
      const found = this.resync(Buffer.concat([this.searching, block]));
      if (!found) return;
      block = found;
    }
    yield* this.parse(block);
  }

  /**
   * Finds the first offset in `data` where a whole record starts that `accept` takes
   * (known type, length within bounds, a payload that is a valid record of its type);
   * returns the data from there, or keeps the undecided rest for the next block.
   */
  private resync(data: Buffer): Buffer | undefined {
    for (let at = 0; at < data.length; at++) {
      if (data.length - at < RECORD_PREFIX_LENGTH) return this.stillSearching(data, at);
      const type = data[at]!;
      const length = data.readUInt32BE(at + 1);
      if (!KNOWN_TYPES.has(type) || length > MAX_RECORD_PAYLOAD) continue;
      const end = at + RECORD_PREFIX_LENGTH + length;
      const head = data.subarray(at + RECORD_PREFIX_LENGTH, Math.min(end, data.length));
      // Resyncing only ever lands on JSON records (Storage content is never taken), so a
      // candidate whose bytes so far cannot be JSON text is no record: rejected now, not
      // after waiting for the up to 64 MiB its length claims. Raw bytes after a gap inside
      // Storage content often hold such a prefix, and waiting on it read to the end of the
      // archive and lost every record after the content.
      if (!couldBeJsonText(head)) continue;
      // A plausible prefix whose record runs past what we have: decide with the next block.
      if (end > data.length) return this.stillSearching(data, at);
      if (this.accept?.(type as RecordType, data.subarray(at + RECORD_PREFIX_LENGTH, end))) {
        this.resyncBytes += at;
        this.searching = undefined;
        return data.subarray(at);
      }
    }
    this.resyncBytes += data.length;
    this.searching = Buffer.alloc(0);
    return undefined;
  }

  private stillSearching(data: Buffer, at: number): undefined {
    this.resyncBytes += at;
    this.searching = Buffer.from(data.subarray(at));
    return undefined;
  }

  private *parse(block: Buffer): Generator<RawRecord> {
    let offset = 0;
    if (this.pendingLength > 0) {
      offset = this.completePending(block);
      if (this.pendingTotal === undefined || this.pendingLength < this.pendingTotal) return;
      const whole = this.join();
      yield {
        type: whole[0] as RecordType,
        payload: whole.subarray(RECORD_PREFIX_LENGTH),
      };
    }
    while (block.length - offset >= RECORD_PREFIX_LENGTH) {
      const end = offset + recordLength(block, offset);
      if (end > block.length) break;
      yield {
        type: block[offset] as RecordType,
        payload: block.subarray(offset + RECORD_PREFIX_LENGTH, end),
      };
      offset = end;
    }
    if (offset < block.length) this.keep(block.subarray(offset));
  }

  /** Throws if the stream ended inside a record (salvage: counts it as dropped). */
  end(): void {
    if (this.accept) {
      this.gap();
      this.searching = undefined;
      return;
    }
    if (this.pendingLength > 0) throw corrupt('The archive ends in the middle of a record.');
  }

  /** Adds what `block` holds of the pending record; returns where the block's rest starts. */
  private completePending(block: Buffer): number {
    let offset = 0;
    if (this.pendingTotal === undefined) {
      // The prefix itself was cut: join its few bytes to learn the record's length.
      const missing = Math.min(RECORD_PREFIX_LENGTH - this.pendingLength, block.length);
      const head = Buffer.concat([...this.pending, block.subarray(0, missing)]);
      this.bytesCopied += head.length;
      this.pending = [head];
      this.pendingLength = head.length;
      offset = missing;
      if (head.length < RECORD_PREFIX_LENGTH) return offset;
      this.pendingTotal = recordLength(head, 0);
    }
    const take = Math.min(this.pendingTotal - this.pendingLength, block.length - offset);
    this.pending.push(block.subarray(offset, offset + take));
    this.pendingLength += take;
    return offset + take;
  }

  private keep(rest: Buffer): void {
    this.pending = [rest];
    this.pendingLength = rest.length;
    this.pendingTotal = rest.length >= RECORD_PREFIX_LENGTH ? recordLength(rest, 0) : undefined;
  }

  private join(): Buffer {
    const whole =
      this.pending.length === 1
        ? this.pending[0]!
        : Buffer.concat(this.pending, this.pendingLength);
    if (this.pending.length > 1) this.bytesCopied += whole.length;
    this.pending = [];
    this.pendingLength = 0;
    this.pendingTotal = undefined;
    return whole;
  }
}

/**
 * False when `bytes` cannot be (part of) JSON text: JSON never holds a raw control byte
 * but tab, LF and CR (JSON.parse refuses them, in strings too), and in UTF-8 those bytes
 * are never part of a longer character.
 */
function couldBeJsonText(bytes: Buffer): boolean {
  for (const byte of bytes) {
    if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  }
  return true;
}

/** The whole length (prefix + payload) of the record at `offset`, checked. */
function recordLength(data: Buffer, offset: number): number {
  const type = data[offset]!;
  const length = data.readUInt32BE(offset + 1);
  if (!KNOWN_TYPES.has(type)) throw corrupt(`The archive holds a record of unknown type ${type}.`);
  if (length > MAX_RECORD_PAYLOAD)
    throw corrupt(`The archive holds a record claiming ${length} bytes.`);
  return RECORD_PREFIX_LENGTH + length;
}

export function parseJsonPayload<T>(record: RawRecord): T {
  try {
    return JSON.parse(record.payload.toString('utf8')) as T;
  } catch {
    throw corrupt(`A record of type ${record.type} is not valid JSON.`);
  }
}
