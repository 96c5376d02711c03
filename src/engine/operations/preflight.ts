import { randomBytes } from 'node:crypto';
import { AppError, isAppError } from '../../shared/errors.js';
import { RecordType, parseJsonPayload } from '../archive/records.js';
import { openAllRecords, sealJsonRecords } from '../archive/small-archive.js';
import type { Keyring } from '../keys/keyring.js';
import type { StorageBackend } from '../storage/backend.js';

/**
 * Checks, before any billed read from Firestore, that the backup can be kept: the
 * destination takes a write, gives it back and deletes it, and the key seals something
 * the keyring can open again. A wrong credential, a missing bucket or a read-only folder
 * then fails in seconds instead of after reading every document.
 *
 * The probe object's name says what it is and matches nothing `list` shows (neither a
 * manifest nor an archive); it is removed whatever happens.
 */
export const PROBE_PREFIX = 'firebackup-preflight-';

export async function preflight(
  destination: StorageBackend,
  keyring: Keyring,
  signal?: AbortSignal,
): Promise<void> {
  const key = keyring.current();
  const nonce = randomBytes(8).toString('hex');
  const probeKey = `${PROBE_PREFIX}${nonce}.tmp`;
  const { bytes } = await sealJsonRecords(key, [
    { type: RecordType.Manifest, value: { preflight: nonce } },
  ]);
  const fail = (step: string, error: unknown): AppError => {
    const message = error instanceof Error ? error.message : String(error);
    return new AppError(
      isAppError(error) ? error.code : 'UNAVAILABLE',
      `Preflight: could not ${step} ${destination.displayUrl} (${message}). Nothing was read from Firestore; fix the destination (path, bucket, credentials) and try again.`,
      { cause: error },
    );
  };
  try {
    await destination.put(probeKey, bytes, {
      contentLength: bytes.length,
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    throw fail('write to', error);
  }
  let problem: unknown;
  try {
    const stream = await destination.get(probeKey, signal ? { signal } : {});
    const { records } = await openAllRecords(stream, keyring);
    const value = records[0] ? parseJsonPayload<{ preflight?: string }>(records[0]) : undefined;
    if (value?.preflight !== nonce) {
      problem = new AppError(
        'INTEGRITY',
        `Preflight: ${destination.displayUrl} gave back different bytes than were written. Nothing was read from Firestore; check the destination before backing up to it.`,
      );
    }
  } catch (error) {
    problem =
      isAppError(error) && error.code.startsWith('KEY_') ? error : fail('read back from', error);
  }
  try {
    await destination.delete(probeKey);
  } catch (error) {
    // A destination that cannot delete cannot prune either; say so now.
    problem ??= fail(`delete the test object ${probeKey} from`, error);
  }
  if (problem) throw problem;
}
