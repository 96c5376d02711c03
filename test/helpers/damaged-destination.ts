import type { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf, manifestKeyOf } from '../../src/engine/operations/backup-names.js';
import type { StorageBackend } from '../../src/engine/storage/backend.js';
import { craftBackup, sampleDocuments } from './craft-backup.js';

export async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

export async function keysOf(backend: StorageBackend): Promise<string[]> {
  const out: string[] = [];
  for await (const info of backend.list('')) out.push(info.key);
  return out.sort();
}

export interface Damaged {
  good: string;
  flipped: string;
  orphanArchive: string;
  orphanManifest: string;
}

/**
 * One good backup, one with a flipped byte in its archive, one archive whose manifest is
 * gone, one manifest whose archive is gone. Damage goes through `bare`, behind the
 * wrappers' back, as bit rot or someone with write access would do it.
 */
export async function damage(
  wrapped: StorageBackend,
  bare: StorageBackend,
  key: MasterKey,
): Promise<Damaged> {
  const docs = sampleDocuments(40);
  const make = async (ms: number): Promise<string> =>
    (await craftBackup(wrapped, key, docs, { createdAt: new Date(Date.now() - ms) })).id;
  const [good, flipped, orphanArchive, orphanManifest] = [
    await make(4000),
    await make(3000),
    await make(2000),
    await make(1000),
  ];
  const bytes = await readAll(await bare.get(archiveKeyOf(flipped)));
  bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
  await bare.put(archiveKeyOf(flipped), bytes);
  await bare.delete(manifestKeyOf(orphanArchive));
  await bare.delete(archiveKeyOf(orphanManifest));
  return {
    good: good!,
    flipped: flipped!,
    orphanArchive: orphanArchive!,
    orphanManifest: orphanManifest!,
  };
}

/** The objects of the two backups that have both halves: what a repair must leave. */
export function backupKeys(d: Damaged): string[] {
  return [d.good, d.flipped].flatMap((id) => [archiveKeyOf(id), manifestKeyOf(id)]).sort();
}
