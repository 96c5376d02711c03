import { ArchiveReader, readArchivePrefix } from '../../src/engine/archive/reader.js';
import { RECORD_PREFIX_LENGTH, RecordType } from '../../src/engine/archive/records.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import type { MasterKey } from '../../src/engine/keys/master-key.js';

export interface ArchiveLayout {
  /** Where each segment's bytes lie in the archive file. */
  segments: Array<{ start: number; end: number }>;
  /** Where each record lies in the plaintext; documents carry their path, users their uid, objects their name. */
  records: Array<{ type: RecordType; path?: string; start: number; end: number }>;
}

/** The field that names a record of each type, as `path` in the layout. */
const NAMED: Partial<Record<RecordType, string>> = {
  [RecordType.FirestoreDocument]: 'path',
  [RecordType.AuthUser]: 'localId',
  [RecordType.StorageObject]: 'name',
};

/** The layout of an intact archive, for tests that damage chosen segments of it. */
export async function archiveLayout(archive: Buffer, key: MasterKey): Promise<ArchiveLayout> {
  const once = async function* (): AsyncGenerator<Buffer> {
    yield archive;
  };
  const prefix = await readArchivePrefix(once());
  const segments: ArchiveLayout['segments'] = [];
  for (let at = prefix.bytes.length; at < archive.length;) {
    const end = at + 4 + archive.readUInt32BE(at);
    segments.push({ start: at, end });
    at = end;
  }
  const reader = new ArchiveReader(once(), new Keyring(key, []));
  const records: ArchiveLayout['records'] = [];
  let offset = 0;
  for await (const r of reader.records()) {
    const end = offset + RECORD_PREFIX_LENGTH + r.payload.length;
    const json = NAMED[r.type]
      ? (JSON.parse(r.payload.toString()) as Record<string, string>)[NAMED[r.type]!]
      : undefined;
    records.push({ type: r.type, ...(json ? { path: json } : {}), start: offset, end });
    offset = end;
  }
  return { segments, records };
}
