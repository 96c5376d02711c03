import type { Handlers } from '../../shared/api/dispatch.js';
import type { Runtime } from '../jobs/runtime.js';
import type { Keyring } from '../keys/keyring.js';
import type { HandlerContext } from './handlers/context.js';
import { backupHandlers } from './handlers/backups.js';
import { destinationHandlers } from './handlers/destinations.js';
import { jobHandlers } from './handlers/jobs.js';
import { scheduleHandlers } from './handlers/schedules.js';
import { secretHandlers } from './handlers/secrets.js';
import { FileSecretStore, secretsPath } from '../secrets/secret-store.js';

/**
 * The engine's side of the contract (src/shared/api/contract.ts): each method over the
 * runtime's catalog, job manager and scheduler, one file per domain in ./handlers/.
 * Transports (Electron IPC, the loopback server) wrap these in the shared dispatcher,
 * which validates input and permissions.
 */
export function createApiHandlers(
  runtime: Runtime,
  keyring: Keyring,
  // The CLI and web mode keep secrets in the owner-only file; the desktop passes its own.
  secrets: HandlerContext['secrets'] = new FileSecretStore(secretsPath()),
): Handlers {
  const context = { runtime, keyring, secrets };
  return {
    ...backupHandlers(context),
    ...jobHandlers(context),
    ...destinationHandlers(context),
    ...scheduleHandlers(context),
    ...secretHandlers(context),
  };
}
