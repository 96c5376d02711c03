import type { z } from 'zod';
import { JobEventSchema, RunSchema } from '../jobs.js';
import type { MethodDefinition } from './define.js';
import { backupMethods } from './methods/backups.js';
import { destinationSetupMethods } from './methods/destination-setup.js';
import { backupBrowseMethods } from './methods/backup-browse.js';
import { destinationMethods } from './methods/destinations.js';
import { jobMethods } from './methods/jobs.js';
import { keyMethods } from './methods/keys.js';
import { projectMethods } from './methods/projects.js';
import { scheduleMethods } from './methods/schedules.js';
import { settingsMethods } from './methods/settings.js';
import { secretMethods } from './methods/secrets.js';
import { sourceMethods } from './methods/sources.js';
import { restoreMethods } from './methods/restore.js';
import { scheduleEditMethods, ScheduleChangedEventSchema } from './methods/schedule-edit.js';
import { dashboardMethods } from './methods/dashboard.js';
import { historyMethods } from './methods/history.js';
import { catalogLocationMethods } from './methods/catalog-location.js';
import { teamMethods } from './methods/team.js';
import { teamSignInMethods } from './methods/team-sign-in.js';
import { syncMethods } from './methods/sync.js';
import { sharedBackupMethods } from './methods/shared-backups.js';
import { DestinationChangedEventSchema } from './methods/catalog-events.js';

export { method, type MethodDefinition } from './define.js';
export { BackupSummarySchema } from './methods/backups.js';
export { JobStateSchema } from './methods/jobs.js';

/**
 * Every method the engine offers front ends, listed once: its input and output schemas
 * and the permission it needs. Electron's IPC handler, the preload bridge, the loopback
 * web server and the renderer's types are all derived from this list, so no channel
 * name is written twice and every input is validated where it arrives. Methods are
 * grouped by domain in ./methods/; a new domain adds a file and one line here.
 */
export const contract = {
  ...backupMethods,
  ...jobMethods,
  ...destinationMethods,
  ...scheduleMethods,
  ...projectMethods,
  ...destinationSetupMethods,
  ...keyMethods,
  ...settingsMethods,
  ...sourceMethods,
  ...secretMethods,
  ...backupBrowseMethods,
  ...restoreMethods,
  ...scheduleEditMethods,
  ...dashboardMethods,
  ...historyMethods,
  ...catalogLocationMethods,
  ...teamMethods,
  ...teamSignInMethods,
  ...syncMethods,
  ...sharedBackupMethods,
} as const satisfies Record<string, MethodDefinition>;

export type Contract = typeof contract;
export type MethodName = keyof Contract;
export type MethodInput<M extends MethodName> = z.input<Contract[M]['input']>;
export type MethodOutput<M extends MethodName> = z.output<Contract[M]['output']>;

/**
 * Events pushed to front ends, declared like methods. A front end receives only the events
 * it subscribed to. `job`: every state change and progress tick of a job; `run.finished`:
 * the recorded run once a job reaches a terminal state (what history and notifications
 * show); `schedule.changed`: a schedule created, edited, paused, resumed or removed;
 * `destination.changed`: a destination saved or removed.
 */
export const events = {
  job: JobEventSchema,
  'run.finished': RunSchema,
  /** A schedule created, edited, paused/resumed or removed through the contract. */
  'schedule.changed': ScheduleChangedEventSchema,
  /** A destination saved or removed (any front end of this engine). */
  'destination.changed': DestinationChangedEventSchema,
} as const;
export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];
export const METHOD_NAMES = Object.keys(contract) as MethodName[];
