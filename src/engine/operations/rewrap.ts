import type { BackupManifest } from '../../shared/backups.js';
import { AppError, isAppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import { ArchiveReader, peekKeyId, readArchivePrefix } from '../archive/reader.js';
import { rewrapPrefix, swapPrefix } from '../archive/rewrap.js';
import { browseDirectoryKeyId, rewrapBrowseDirectory } from '../browse/directory.js';
import { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import type { StorageBackend } from '../storage/backend.js';
import { archiveKeyOf, manifestKeyOf } from './backup-names.js';
import { completeBackups } from './list.js';
import { archiveMatchesManifest, readManifest, writeManifest } from './manifest.js';

export interface RewrapResult {
  id: string;
  /** skipped: already under the current key; rewrapped: archive envelope and manifest;
   *  resealed: manifest only (the archive was already under the current key). */
  action: 'skipped' | 'rewrapped' | 'resealed' | 'failed';
  /** Key ids before: of the archive's envelope and of the manifest's seal. */
  archiveKeyId?: string;
  manifestKeyId?: string;
  keyId: string;
  dryRun: boolean;
  error?: ErrorData;
}

export interface RewrapOptions {
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Called after each backup, for per-backup output. */
  onBackup?: (result: RewrapResult) => void;
}

/**
 * Moves every complete backup of a destination onto the keyring's current key
 * (docs/design.md §6): the archive's envelope re-sealed, segments untouched, the
 * manifest re-sealed with the new size, digest and key id. The order of writes keeps
 * every backup readable with the old and new keys whenever it stops; a re-run finishes
 * what a stopped run began and skips what is done. A backup that fails (a key not held,
 * an archive that differs from its manifest) is reported and the others go on.
 */
export async function rewrapBackups(
  destination: StorageBackend,
  keyring: Keyring,
  options: RewrapOptions = {},
): Promise<RewrapResult[]> {
  const current = keyring.current();
  const results: RewrapResult[] = [];
  for (const { id } of (await completeBackups(destination)).reverse()) {
    if (options.signal?.aborted) throw new AppError('CANCELLED', 'Re-wrapping was cancelled.');
    let result: RewrapResult;
    try {
      result = await rewrapOne(destination, keyring, current, id, {
        dryRun: options.dryRun ?? false,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (isAppError(error) && error.code === 'CANCELLED') throw error;
      result = {
        id,
        action: 'failed',
        keyId: current.id,
        dryRun: options.dryRun ?? false,
        error: toErrorData(error),
      };
    }
    results.push(result);
    options.onBackup?.(result);
  }
  return results;
}

async function rewrapOne(
  destination: StorageBackend,
  keyring: Keyring,
  current: MasterKey,
  id: string,
  { dryRun, signal }: { dryRun: boolean; signal?: AbortSignal },
): Promise<RewrapResult> {
  const archiveKey = archiveKeyOf(id);
  const manifestKeyId = await peekKeyId(await destination.get(manifestKeyOf(id)));
  const manifest = await readManifest(destination, id, keyring);
  const prefix = await readArchivePrefix(await destination.get(archiveKey));
  const archiveKeyId = prefix.envelope.keyId;
  const base = { id, archiveKeyId, manifestKeyId, keyId: current.id, dryRun };
  const archiveDone = archiveKeyId === current.id;
  const directoryKeyId = await browseDirectoryKeyId(destination, id);
  if (
    archiveDone &&
    manifestKeyId === current.id &&
    isFinal(manifest, current) &&
    (directoryKeyId === undefined || directoryKeyId === current.id)
  ) {
    return { ...base, action: 'skipped' };
  }
  const action = archiveDone ? 'resealed' : 'rewrapped';
  if (dryRun) return { ...base, action };

  let stored: { size: number; sha256: string };
  if (archiveDone) {
    stored = await digestOf(destination, archiveKey);
    if (!archiveMatchesManifest(manifest, stored)) throw differs(id);
  } else {
    // 1. Digests of the stored archive and of its re-wrapped form; nothing written yet.
    const newPrefix = rewrapPrefix(prefix, keyring, current);
    const planned = swapPrefix(await destination.get(archiveKey), prefix.bytes.length, newPrefix);
    for await (const _ of planned.bytes);
    const { size, oldSha256, newSha256 } = planned.digests();
    if (!archiveMatchesManifest(manifest, { size, sha256: oldSha256 })) throw differs(id);
    // 2. A manifest under the current key naming both the new archive and the stored one.
    stored = { size, sha256: newSha256 };
    await writeManifest(
      destination,
      withArchive(manifest, current, {
        ...stored,
        previous: { size, sha256: oldSha256, keyId: archiveKeyId },
      }),
      current,
    );
    // 3. The re-wrapped archive over the old one, from a read checked against step 1.
    const source = await destination.get(archiveKey);
    const swap = swapPrefix(source, prefix.bytes.length, newPrefix, oldSha256);
    try {
      // A cancelled put leaves the stored archive as it was (atomic puts), and M1 names it.
      await destination.put(archiveKey, swap.bytes, {
        contentLength: size,
        ...(signal ? { signal } : {}),
      });
    } finally {
      // A put that failed before reading it to the end (or at all) leaves the read open:
      // a local folder's file handle would stay open until the collector found it.
      source.destroy();
    }
    await readBackWith(destination, archiveKey, current, stored);
  }
  // The browse directory (docs/design.md §7), bound to the archive's header, which a
  // rewrap keeps: only its own envelope changes. Before the final manifest, so a run
  // that stops here is finished by the next.
  await rewrapBrowseDirectory(destination, id, keyring, current, signal);
  // 4. The final manifest: the current key, the archive as now stored, nothing else.
  await writeManifest(destination, withArchive(manifest, current, stored), current);
  return { ...base, action };
}

function isFinal(manifest: BackupManifest, current: MasterKey): boolean {
  return manifest.keyId === current.id && manifest.archive.previous === undefined;
}

function withArchive(
  manifest: BackupManifest,
  current: MasterKey,
  archive: Omit<BackupManifest['archive'], 'key'>,
): BackupManifest {
  return { ...manifest, keyId: current.id, archive: { key: manifest.archive.key, ...archive } };
}

function differs(id: string): AppError {
  return new AppError(
    'INTEGRITY',
    `Backup ${id}: the stored archive differs from the one its manifest describes, so it was not re-wrapped. Run \`firebackup verify ${id}\` to see what is wrong.`,
  );
}

async function digestOf(
  destination: StorageBackend,
  key: string,
): Promise<{ size: number; sha256: string }> {
  const pass = swapPrefix(await destination.get(key), 0, Buffer.alloc(0));
  for await (const _ of pass.bytes);
  const { size, oldSha256 } = pass.digests();
  return { size, sha256: oldSha256 };
}

/** Reads the new archive in full with the current key alone before it counts as done. */
async function readBackWith(
  destination: StorageBackend,
  key: string,
  current: MasterKey,
  expected: { size: number; sha256: string },
): Promise<void> {
  const reader = new ArchiveReader(await destination.get(key), new Keyring(current), {
    expectKeyId: current.id,
  });
  for await (const _ of reader.records());
  const summary = reader.summary!;
  if (summary.archiveBytes !== expected.size || summary.archiveSha256 !== expected.sha256) {
    throw new AppError(
      'INTEGRITY',
      `The re-wrapped archive ${key} reads back differently from what was written; its manifest still names the archive before re-wrapping, so run the command again.`,
    );
  }
}
