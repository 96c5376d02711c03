import type { BackupHeader, BackupManifest } from '../../shared/backups.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { TAG_LENGTH } from '../archive/format.js';
import type { ArchiveReaderOptions, ReadSummary } from '../archive/reader.js';
import type { Keyring } from '../keys/keyring.js';
import { archiveKeyOf, manifestKeyOf } from './backup-names.js';
import { archiveMatchesManifest, expectedKeyIds, readManifest } from './manifest.js';
import type { ResolvedBackup } from './resolve-backup.js';

/**
 * Binds what restore, inspect and verify read to the backup they were asked for. The
 * archive format authenticates bytes, not their place: anyone who can write to storage
 * (but holds no key) can still put one backup's valid archive where another's should be,
 * or serve different bytes to two reads of the same object. These checks refuse both,
 * with ARCHIVE_MISMATCH, before any record of the wrong bytes is released.
 */

/** What the archive must be for the backup it is read as. */
export interface ArchiveBinding {
  /** The id its backup header must carry; undefined when nothing names one. */
  backupId: string | undefined;
  /** The backup's manifest (its key id, archive size and SHA-256), when there is one. */
  manifest: BackupManifest | undefined;
  /** Says what was checked, when it is less than a manifest gives. */
  note: string | undefined;
}

/**
 * The binding of a resolved backup: its manifest when one exists (beside an archive file
 * given alone too), else only the id its name carries.
 */
export async function bindingFor(
  backup: ResolvedBackup,
  keyring: Keyring,
): Promise<ArchiveBinding> {
  const id = backup.id;
  if (!id) {
    return {
      backupId: undefined,
      manifest: undefined,
      note: `${backup.label}: its name carries no backup id and it has no manifest, so nothing binds it to a backup; its own header says which backup it holds.`,
    };
  }
  if (await objectExists(backup, manifestKeyOf(id))) {
    const manifest = await readManifest(backup.destination, id, keyring).catch((error: unknown) => {
      throw damagedManifest(id, error) ?? error;
    });
    return { backupId: id, manifest, note: undefined };
  }
  return {
    backupId: id,
    manifest: undefined,
    note: `${backup.label}: no manifest beside it: only its backup id was checked (against its name), not its size and SHA-256.`,
  };
}

/** Errors that say a manifest's bytes are bad (not that storage or a key is missing). */
const DAMAGE = new Set(['ARCHIVE_CORRUPT', 'ARCHIVE_UNSUPPORTED', 'ARCHIVE_MISMATCH', 'INTEGRITY']);

/**
 * A manifest read failure that means its bytes are bad, named as such with what to do;
 * undefined for other failures (storage, keys), which keep their own message.
 */
export function damagedManifest(id: string, error: unknown): AppError | undefined {
  if (!isAppError(error) || !DAMAGE.has(error.code)) return undefined;
  return new AppError(
    error.code,
    `The manifest of backup ${id} (${manifestKeyOf(id)}) is damaged: ${error.message} Its archive may still be intact: copy ${archiveKeyOf(id)} out of the destination and run \`firebackup verify <that file>\` to check it on its own.`,
  );
}

/** How a report says what was bound: JSON for programs, the note for people. */
export function bindingReport(binding: ArchiveBinding): { manifest: boolean; note?: string } {
  return {
    manifest: binding.manifest !== undefined,
    ...(binding.note ? { note: binding.note } : {}),
  };
}

async function objectExists(backup: ResolvedBackup, key: string): Promise<boolean> {
  try {
    await backup.destination.stat(key);
    return true;
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return false;
    throw error;
  }
}

function mismatch(label: string, what: string): AppError {
  return new AppError(
    'ARCHIVE_MISMATCH',
    `${label}: ${what} Refused: nothing from it was restored or shown. Find an intact copy with \`firebackup list\` and \`firebackup verify\`, and make sure only FireBackup writes to this destination.`,
  );
}

/** The envelope's key must be the one the manifest names: checked before any key work. */
export function checkKeyId(binding: ArchiveBinding, label: string, keyId: string): void {
  if (!binding.manifest) return;
  // During a `keys rewrap` the manifest also names the previous archive's key.
  const named = expectedKeyIds(binding.manifest);
  if (!named.includes(keyId)) {
    throw mismatch(
      label,
      `the archive is encrypted with key ${keyId}, but its manifest names key ${named.join(' or ')}: it is not this backup's archive.`,
    );
  }
}

/** The archive's backup header must carry the id of the backup it is read as. */
export function checkHeader(binding: ArchiveBinding, label: string, header: BackupHeader): void {
  if (binding.backupId !== undefined && header.backupId !== binding.backupId) {
    throw mismatch(
      label,
      `this archive holds backup ${header.backupId}, not ${binding.backupId}: another backup's archive was put in its place (an older one would roll the backup back).`,
    );
  }
}

/** Size and SHA-256 of the archive as read must be those its manifest recorded. */
export function checkDigest(binding: ArchiveBinding, label: string, summary: ReadSummary): void {
  const manifest = binding.manifest;
  if (!manifest) return;
  const recorded = manifest.archive;
  if (
    !archiveMatchesManifest(manifest, { size: summary.archiveBytes, sha256: summary.archiveSha256 })
  ) {
    throw mismatch(
      label,
      `the archive authenticates but is not the one its manifest describes (${summary.archiveBytes} bytes read, ${recorded.size} recorded${recorded.size === summary.archiveBytes ? ', SHA-256 differs' : ''}): another archive of this backup was put in its place.`,
    );
  }
}

/**
 * Binds the writing pass of a restore to its verifying pass: the first pass records the
 * header and envelope bytes and every segment's length and GCM tag (16 bytes a segment);
 * the second refuses any difference before the segment is opened, so no record of bytes
 * other than those authenticated is ever released.
 */
export class PassBinding {
  private prologue: Buffer | undefined;
  private readonly tags: Buffer[] = [];
  private readonly lengths: number[] = [];
  private firstBytes: number | undefined;

  constructor(private readonly label: string) {}

  /** True once the first pass completed: reads are then checked, not recorded. */
  get checking(): boolean {
    return this.firstBytes !== undefined;
  }

  /** The reader hooks for the current pass. */
  readonly hooks: Required<Pick<ArchiveReaderOptions, 'onPrologue' | 'onSegment'>> = {
    onPrologue: ({ bytes }) => {
      if (!this.checking) this.prologue = Buffer.from(bytes);
      else if (!this.prologue?.equals(bytes))
        throw this.changed('its header or key envelope differs');
    },
    onSegment: (index, sealed) => {
      const tag = sealed.subarray(sealed.length - TAG_LENGTH);
      if (!this.checking) {
        this.tags.push(Buffer.from(tag));
        this.lengths.push(sealed.length);
      } else if (
        index >= this.tags.length ||
        this.lengths[index] !== sealed.length ||
        !this.tags[index]!.equals(tag)
      ) {
        throw this.changed(`segment ${index} differs`);
      }
    },
  };

  /** Ends the first pass, whose reader authenticated everything it recorded. */
  firstPassDone(summary: ReadSummary): void {
    this.firstBytes = summary.archiveBytes;
  }

  /** After the second pass: the same total size. */
  checkSecondPass(summary: ReadSummary): void {
    if (summary.archiveBytes !== this.firstBytes) {
      throw this.changed(`${summary.archiveBytes} bytes read, ${this.firstBytes} verified`);
    }
  }

  /**
   * In the second pass any damage means the bytes changed since the first pass
   * authenticated all of them: say so rather than "corrupt".
   */
  explain(error: unknown): unknown {
    if (this.checking && isAppError(error) && error.code === 'ARCHIVE_CORRUPT') {
      return this.changed(error.message);
    }
    return error;
  }

  private changed(what: string): AppError {
    return new AppError(
      'ARCHIVE_MISMATCH',
      `${this.label}: the archive changed while it was being restored (${what}, between the verifying and the writing read). Nothing more was written. Run \`firebackup verify\` on it, and restore again once the storage serves it unchanged.`,
    );
  }
}
