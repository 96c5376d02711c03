import { z } from 'zod';
import { ErrorDataSchema } from '../../jobs.js';
import { ROLES } from '../../rbac.js';
import { method } from '../define.js';

/**
 * Team sync mode on the catalog screens (ADR 0015): when the app is signed into an
 * organisation, projects, destinations, schedules, runs and backups are read from the
 * organisation server (its last known state when offline) and merged with what exists
 * only on this machine. Outside sync mode nothing changes.
 *
 * The list methods answer arrays, which cannot carry a field of their own without
 * breaking every caller; so each row carries an optional `origin` (where it comes from)
 * and the list as a whole is described by `sync.state`, recorded as each list is served.
 */

/** Where a list came from: this machine's catalog, or the organisation server (merged). */
export const SyncIndicatorSchema = z.object({
  source: z.enum(['local', 'server']),
  /** When the server's rows were fetched (null: never, or local). */
  syncedAt: z.string().nullable(),
  /** The server could not be reached: its rows are the last known ones, as of syncedAt. */
  offline: z.boolean(),
  /** Why the list is not live (the server's or the network's error), else null. */
  problem: ErrorDataSchema.nullable(),
});
export type SyncIndicator = z.infer<typeof SyncIndicatorSchema>;

/**
 * One row's origin in sync mode (absent outside it):
 * - both: on this machine and in the organisation's catalog;
 * - server: in the organisation's catalog only (another member's; not set up here);
 * - local: on this machine only (`pending`: queued to be sent to the server).
 */
export const SyncOriginSchema = z.object({
  where: z.enum(['both', 'server', 'local']),
  /** The row's id on the server (null: not there yet). */
  serverId: z.string().nullable(),
  pending: z.boolean(),
});
export type SyncOrigin = z.infer<typeof SyncOriginSchema>;

/** A row schema with the optional `origin` of sync mode (older callers ignore it). */
export const withOrigin = <T extends z.ZodRawShape>(row: z.ZodObject<T>) =>
  row.extend({ origin: SyncOriginSchema.optional() });

export const SYNCED_LISTS = ['projects', 'destinations', 'schedules', 'runs', 'backups'] as const;
export type SyncedList = (typeof SYNCED_LISTS)[number];

export const SyncStateSchema = z.object({
  /** server: signed in with an organisation picked (team sync mode); local: otherwise. */
  mode: z.enum(['local', 'server']),
  /** The picked organisation and the member's role (the last known one when offline). */
  organization: z.object({ id: z.string(), name: z.string(), role: z.enum(ROLES) }).nullable(),
  /** How each list was when last served (null: not served since the engine started). */
  lists: z.record(z.enum(SYNCED_LISTS), SyncIndicatorSchema.nullable()),
});
export type SyncState = z.infer<typeof SyncStateSchema>;

export const syncMethods = {
  'sync.state': method({
    description:
      'Local or team sync mode, the role in the picked organisation, and how each catalog list was last served (server or local, synced when, offline).',
    input: z.object({}).strict(),
    output: SyncStateSchema,
    permission: 'backups:view',
  }),
};

/** A row type with the optional origin (what the renderer's row components take). */
export type Synced<T> = T & { origin?: SyncOrigin | undefined };
