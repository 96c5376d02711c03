import { z } from 'zod';
import { ErrorDataSchema } from '../../jobs.js';
import { method } from '../define.js';

const BackupRefSchema = z.object({
  destinationId: z.string(),
  destinationName: z.string(),
  backupId: z.string(),
  createdAt: z.string(),
  project: z.string().optional(),
});

/** Most backups listed per key; `backupCount` has them all. */
export const MAX_BACKUPS_PER_KEY = 100;

export const KeyViewSchema = z.object({
  id: z.string(),
  /** null for a key given only by the environment (ENCRYPTION_KEY…), not in the store. */
  createdAt: z.string().nullable(),
  current: z.boolean(),
  inStore: z.boolean(),
  /** Whether this app holds the key (false: backups exist that name a key nobody gave). */
  held: z.boolean(),
  backupCount: z.number().int(),
  backups: z.array(BackupRefSchema),
});
export type KeyView = z.infer<typeof KeyViewSchema>;

export const KeysOverviewSchema = z.object({
  keyStore: z.object({ file: z.string(), exists: z.boolean() }),
  /** Keys held (current first), then keys backups name that are not held. */
  keys: z.array(KeyViewSchema),
  /** Destinations that could not be listed (the key list is then incomplete for them). */
  destinationErrors: z.array(
    z.object({ destinationId: z.string(), destinationName: z.string(), error: ErrorDataSchema }),
  ),
});
export type KeysOverview = z.infer<typeof KeysOverviewSchema>;

export const keyMethods = {
  'keys.list': method({
    description:
      'The encryption keys, with the backups each one reads (every destination of the catalog is listed).',
    input: z.object({}).strict(),
    output: KeysOverviewSchema,
    permission: 'backups:view',
  }),
  'keys.generate': method({
    description:
      'Make the first key and the key store that keeps it (keys given by the environment are kept too). Refused when a store exists: rotate instead.',
    input: z.object({}).strict(),
    output: z.object({ keyId: z.string() }),
    permission: 'projects:manage',
  }),
  'keys.import': method({
    description:
      'Add a key (64 hex characters) held elsewhere: current in a new store, kept for reading in an existing one.',
    input: z
      .object({ key: z.string().trim().min(1, 'paste the key (64 hex characters)').max(200) })
      .strict(),
    output: z.object({ keyId: z.string(), current: z.boolean() }),
    permission: 'projects:manage',
  }),
  'keys.rotate': method({
    description: 'Make a new current key; every older key is kept for reading older backups.',
    input: z.object({}).strict(),
    output: z.object({ keyId: z.string(), previousKeyId: z.string().nullable() }),
    permission: 'projects:manage',
  }),
  'keys.recoveryKit': method({
    description:
      'The recovery kit: a text file with every key held (they are the only way to read the backups) and how to use it.',
    input: z.object({}).strict(),
    output: z.object({ fileName: z.string(), text: z.string() }),
    permission: 'projects:manage',
  }),
};
