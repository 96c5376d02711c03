import type { Handlers } from '../../../shared/api/dispatch.js';
import type { Runtime } from '../../jobs/runtime.js';
import type { KeyStore } from '../../keys/key-store.js';
import type { Keyring } from '../../keys/keyring.js';
import type { SettingsStore } from '../../settings/settings-store.js';
import type { SecretProtection, SecretStore } from '../../secrets/secret-store.js';
import type { TeamHandlerOptions } from './team.js';

/** What every domain's handlers work over: the runtime (catalog, jobs, scheduler) and the keys. */
export interface HandlerContext {
  runtime: Runtime;
  keyring: Keyring;
  /** The app data folder (FIREBACKUP_HOME): where imported credentials are kept. */
  dataDir: string;
  /** The key store (opened on first use: most calls never need it). */
  keyStore: () => KeyStore;
  /** The settings (opened on first use). */
  settings: () => Promise<SettingsStore>;
  /** Where imported credentials are kept; the desktop's store can ask for consent. */
  secrets: SecretStore & { acceptWeakStorage?(): SecretProtection };
  /** Team sync mode: how to open the sign-in page (desktop), the sign-in flow, the network. */
  team?: TeamHandlerOptions;
}

/** The handlers of some of the contract's methods (one domain's). */
export type HandlersFor<M extends keyof Handlers> = Pick<Handlers, M>;
