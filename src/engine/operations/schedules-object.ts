import { z } from 'zod';
import { AppError, isAppError } from '../../shared/errors.js';
import { RecordType, parseJsonPayload } from '../archive/records.js';
import { openAllRecords, sealJsonRecords } from '../archive/small-archive.js';
import type { Keyring } from '../keys/keyring.js';
import type { MasterKey } from '../keys/master-key.js';
import type { StorageBackend } from '../storage/backend.js';

/**
 * The schedules that target a destination, kept in the destination itself so that
 * `catalog rebuild` can bring them back after the catalog is lost. Sealed like a
 * manifest (the same small-archive helpers and record type, with its own payload kind),
 * so it is encrypted and authenticated; it holds no secrets (the catalog never has any).
 * `list` ignores it: it is neither a manifest nor an archive.
 */
export const SCHEDULES_OBJECT_KEY = 'schedules.fbc';

const payloadSchema = z.object({
  kind: z.literal('firebackup.schedules'),
  version: z.literal(1),
  writtenAt: z.string(),
  schedules: z.array(z.unknown()),
});

/** Replaces the destination's schedules object (one put: atomic on every back end). */
export async function writeSchedulesObject(
  destination: StorageBackend,
  key: MasterKey,
  schedules: readonly unknown[],
  now: Date = new Date(),
): Promise<void> {
  const value: z.infer<typeof payloadSchema> = {
    kind: 'firebackup.schedules',
    version: 1,
    writtenAt: now.toISOString(),
    schedules: [...schedules],
  };
  const { bytes } = await sealJsonRecords(key, [{ type: RecordType.Manifest, value }]);
  await destination.put(SCHEDULES_OBJECT_KEY, bytes, { contentLength: bytes.length });
}

/** The schedules kept in a destination, or undefined when it keeps none. */
export async function readSchedulesObject(
  destination: StorageBackend,
  keyring: Keyring,
): Promise<unknown[] | undefined> {
  let stream;
  try {
    stream = await destination.get(SCHEDULES_OBJECT_KEY);
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
  const { records } = await openAllRecords(stream, keyring);
  const parsed = records[0] ? payloadSchema.safeParse(parseJsonPayload(records[0])) : undefined;
  if (!parsed?.success) {
    throw new AppError(
      'ARCHIVE_CORRUPT',
      `${destination.displayUrl}${SCHEDULES_OBJECT_KEY} is not a valid schedules object.`,
    );
  }
  return parsed.data.schedules;
}
