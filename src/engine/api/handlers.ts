import type { Handlers } from '../../shared/api/dispatch.js';
import type { Runtime } from '../jobs/runtime.js';
import { KeyStore, keyStorePath } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import { appDataDir } from '../paths.js';
import { ConfSettingsStore, type SettingsStore } from '../settings/settings-store.js';
import { backupHandlers } from './handlers/backups.js';
import type { HandlerContext } from './handlers/context.js';
import { destinationSetupHandlers } from './handlers/destination-setup.js';
import { backupBrowseHandlers } from './handlers/backup-browse.js';
import { destinationHandlers } from './handlers/destinations.js';
import { jobHandlers } from './handlers/jobs.js';
import { keyHandlers } from './handlers/keys.js';
import { projectHandlers } from './handlers/projects.js';
import { scheduleHandlers } from './handlers/schedules.js';
import { secretHandlers } from './handlers/secrets.js';
import { settingsHandlers } from './handlers/settings.js';
import { sourceHandlers } from './handlers/sources.js';
import { restoreHandlers } from './handlers/restore.js';
import { scheduleEditHandlers } from './handlers/schedule-edit.js';
import { dashboardHandlers } from './handlers/dashboard.js';
import { historyHandlers } from './handlers/history.js';
import { catalogLocationHandlers } from './handlers/catalog-location.js';
import { teamHandlers, type TeamHandlerOptions } from './handlers/team.js';
import { syncHandlers } from './handlers/sync.js';
import { sharedBackupHandlers } from './handlers/shared-backups.js';

/** Where the handlers keep what is not in the catalog; each defaults from the environment. */
export interface ApiHandlerOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: the app data folder of `env`. */
  dataDir?: string;
  keyStore?: KeyStore;
  settings?: SettingsStore;
  /** Default: the runtime's (give the runtime the same store: it opens destinations with it). */
  secrets?: HandlerContext['secrets'];
  /** Team sync mode: openUrl (desktop: shell.openExternal), the sign-in flow, fetch (tests). */
  team?: TeamHandlerOptions;
}

/**
 * The engine's side of the contract (src/shared/api/contract.ts): each method over the
 * runtime's catalog, job manager and scheduler, one file per domain in ./handlers/.
 * Transports (Electron IPC, the loopback server) wrap these in the shared dispatcher,
 * which validates input and permissions.
 */
export function createApiHandlers(
  runtime: Runtime,
  keyring: Keyring,
  options: ApiHandlerOptions = {},
): Handlers {
  const env = options.env ?? process.env;
  const dataDir = options.dataDir ?? appDataDir(env);
  let keyStore = options.keyStore;
  let settings: Promise<SettingsStore> | undefined = options.settings
    ? Promise.resolve(options.settings)
    : undefined;
  const context: HandlerContext = {
    runtime,
    keyring,
    dataDir,
    keyStore: () => (keyStore ??= new KeyStore(keyStorePath(env))),
    settings: () => (settings ??= ConfSettingsStore.open(dataDir)),
    // One store for the handlers and the runtime's destination opener.
    secrets: options.secrets ?? runtime.secrets,
    ...(options.team !== undefined ? { team: options.team } : {}),
  };
  return {
    ...backupHandlers(context),
    ...jobHandlers(context),
    ...destinationHandlers(context),
    ...scheduleHandlers(context),
    ...projectHandlers(context),
    ...destinationSetupHandlers(context),
    ...keyHandlers(context),
    ...settingsHandlers(context),
    ...sourceHandlers(context),
    ...secretHandlers(context),
    ...backupBrowseHandlers(context),
    ...restoreHandlers(context),
    ...scheduleEditHandlers(context),
    ...dashboardHandlers(context),
    ...historyHandlers(context),
    ...catalogLocationHandlers(context),
    ...teamHandlers(context),
    ...syncHandlers(context),
    ...sharedBackupHandlers(context),
  };
}
