import { z } from 'zod';
import { backupIdSchema } from '../../backups.js';
import { RunStatusSchema } from '../../jobs.js';
import { method } from '../define.js';
import { SyncIndicatorSchema } from './sync.js';

/**
 * A backup only the organisation server knows of (another member's machine made it), in
 * team sync mode: what the server knows (project, counts, size, destination and its URL,
 * key id, who and when, the run) and what reading it on this machine needs. Its archive
 * and key never pass through the server, so this is never a restore by itself.
 */

const nullableString = z.string().nullable();

export const SharedBackupSchema = z.object({
  /** As the Backups list row names it. */
  destinationId: z.string(),
  id: z.string(),
  /** The backup record's id on the server (or the run's, when only the run is known). */
  serverId: z.string(),
  project: nullableString,
  projectName: nullableString,
  createdAt: z.string(),
  completedAt: nullableString,
  /** The sources it holds (firestore, auth, rtdb, storage), when the server was told. */
  sources: z.array(z.string()).nullable(),
  documents: z.number().nullable(),
  bytes: z.number().nullable(),
  keyId: nullableString,
  /** That key is on this machine. */
  keyHeld: z.boolean(),
  destination: z.object({ serverId: nullableString, name: nullableString, url: nullableString }),
  /** A destination with the same URL is set up here: the archive can be read from it. */
  here: z.object({ destinationId: z.string(), name: z.string() }).nullable(),
  /** The member who recorded it (email when the members list names them). */
  recordedBy: nullableString,
  run: z
    .object({
      id: z.string(),
      status: RunStatusSchema,
      startedAt: nullableString,
      finishedAt: nullableString,
      reportedBy: nullableString,
    })
    .nullable(),
  /** What restoring it on this machine needs, in words (empty when nothing is missing). */
  needs: z.array(z.string()),
  /** How the server's lists were read (live, or the cached copy offline). */
  sync: SyncIndicatorSchema,
});

export const sharedBackupMethods = {
  'backups.shared': method({
    description:
      "A backup known only to the organisation server (team sync mode): the server's metadata and what restoring it on this machine needs.",
    input: z
      .object({
        // As the list row names it: '' when neither this machine nor the server knows the
        // destination by id (the record names it by URL only).
        destinationId: z.string().max(200),
        backupId: backupIdSchema,
      })
      .strict(),
    output: SharedBackupSchema,
    permission: 'backups:view',
  }),
};
