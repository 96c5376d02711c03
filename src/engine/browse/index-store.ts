import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RecordType, parseJsonPayload } from '../archive/records.js';
import { openAllRecords, sealJsonRecords } from '../archive/small-archive.js';
import type { Keyring } from '../keys/keyring.js';
import type { SavedIndex } from './backup-index.js';

/**
 * The browse indexes saved on this machine, so a backup is read in full once, not each
 * time the app starts. Each file holds document ids (no values), sealed like a manifest
 * with the current key: ids can be personal data, and the folder is a plain cache.
 * A file is used only for the archive it was built from (its SHA-256, from the
 * authenticated manifest); a rewrapped or replaced archive gets a new index.
 */
export class IndexStore {
  constructor(private readonly folder: string) {}

  private fileFor(key: string): string {
    return path.join(this.folder, `${createHash('sha256').update(key).digest('hex')}.fbi`);
  }

  async load(
    key: string,
    archiveSha256: string,
    keyring: Keyring,
  ): Promise<SavedIndex | undefined> {
    try {
      const bytes = await readFile(this.fileFor(key));
      const { records } = await openAllRecords(bytes, keyring);
      const saved = parseJsonPayload<{ key: string; archiveSha256: string; index: SavedIndex }>(
        records[0]!,
      );
      return saved.key === key && saved.archiveSha256 === archiveSha256 ? saved.index : undefined;
    } catch {
      // Missing, from another key, damaged: a cache, so build again.
      return undefined;
    }
  }

  async save(
    key: string,
    archiveSha256: string,
    keyring: Keyring,
    index: SavedIndex,
  ): Promise<void> {
    if (!keyring.currentKey) return;
    const { bytes } = await sealJsonRecords(
      keyring.current(),
      // The manifest record type: one sealed JSON value, never mistaken for an archive
      // (this folder holds nothing else, and the name is not a backup's).
      [{ type: RecordType.Manifest, value: { key, archiveSha256, index } }],
      { blockSize: 1024 * 1024 },
    );
    await mkdir(this.folder, { recursive: true, mode: 0o700 });
    const file = this.fileFor(key);
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, bytes, { mode: 0o600 });
    await rename(temp, file);
  }
}
