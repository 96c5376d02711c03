import type { Handlers } from '../../shared/api/dispatch.js';
import type { Runtime } from '../jobs/runtime.js';
import type { Keyring } from '../keys/keyring.js';
import { backupHandlers } from './handlers/backups.js';
import { backupBrowseHandlers } from './handlers/backup-browse.js';
import { destinationHandlers } from './handlers/destinations.js';
import { jobHandlers } from './handlers/jobs.js';
import { scheduleHandlers } from './handlers/schedules.js';
import { restoreHandlers } from './handlers/restore.js';
import { scheduleEditHandlers } from './handlers/schedule-edit.js';
import { dashboardHandlers } from './handlers/dashboard.js';
import { historyHandlers } from './handlers/history.js';

/**
 * The engine's side of the contract (src/shared/api/contract.ts): each method over the
 * runtime's catalog, job manager and scheduler, one file per domain in ./handlers/.
 * Transports (Electron IPC, the loopback server) wrap these in the shared dispatcher,
 * which validates input and permissions.
 */
export function createApiHandlers(runtime: Runtime, keyring: Keyring): Handlers {
  const context = { runtime, keyring };
  return {
    ...backupHandlers(context),
    ...jobHandlers(context),
    ...destinationHandlers(context),
    ...scheduleHandlers(context),
    ...backupBrowseHandlers(context),
    ...restoreHandlers(context),
    ...scheduleEditHandlers(context),
    ...dashboardHandlers(context),
    ...historyHandlers(context),
  };
}
