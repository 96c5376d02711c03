import { corrupt } from './format.js';

/** Record types of docs/design.md §3. */
export const RecordType = {
  BackupHeader: 1,
  FirestoreDocument: 2,
  AuthHashConfig: 3,
  AuthUser: 4,
  // 5: reserved for Realtime Database nodes.
  StorageObject: 6,
  /** Raw bytes, not JSON: a piece of the preceding Storage object's content. */
  StorageContent: 7,
  Manifest: 16,
  Trailer: 255,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const KNOWN_TYPES = new Set<number>(Object.values(RecordType));
/** Names used for per-type counts in trailers and manifests. */
export const COUNT_NAMES: Partial<Record<RecordType, string>> = {
  [RecordType.FirestoreDocument]: 'firestore.documents',
  [RecordType.AuthUser]: 'auth.users',
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
 * Holds at most one incomplete record between calls.
 */
export class RecordParser {
  private pending: Buffer[] = [];
  private pendingLength = 0;

  *push(block: Buffer): Generator<RawRecord> {
    let data = block;
    if (this.pendingLength > 0) {
      this.pending.push(block);
      data = Buffer.concat(this.pending, this.pendingLength + block.length);
      this.pending = [];
      this.pendingLength = 0;
    }
    let offset = 0;
    while (data.length - offset >= RECORD_PREFIX_LENGTH) {
      const type = data[offset]!;
      const length = data.readUInt32BE(offset + 1);
      if (!KNOWN_TYPES.has(type))
        throw corrupt(`The archive holds a record of unknown type ${type}.`);
      if (length > MAX_RECORD_PAYLOAD)
        throw corrupt(`The archive holds a record claiming ${length} bytes.`);
      const end = offset + RECORD_PREFIX_LENGTH + length;
      if (end > data.length) break;
      yield {
        type: type as RecordType,
        payload: data.subarray(offset + RECORD_PREFIX_LENGTH, end),
      };
      offset = end;
    }
    if (offset < data.length) {
      const rest = data.subarray(offset);
      this.pending = [rest];
      this.pendingLength = rest.length;
    }
  }

  /** Throws if the stream ended inside a record. */
  end(): void {
    if (this.pendingLength > 0) throw corrupt('The archive ends in the middle of a record.');
  }
}

export function parseJsonPayload<T>(record: RawRecord): T {
  try {
    return JSON.parse(record.payload.toString('utf8')) as T;
  } catch {
    throw corrupt(`A record of type ${record.type} is not valid JSON.`);
  }
}
