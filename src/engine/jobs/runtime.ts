import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { Catalog } from '../catalog/catalog.js';
import { systemClock, type Clock } from '../clock.js';
import type { KeyStore } from '../keys/key-store.js';
import type { Keyring } from '../keys/keyring.js';
import { KeyRotator } from '../keys/rotation.js';
import type { Notifier } from '../notify/notifier.js';
import { catalogFileFor } from '../catalog/location.js';
import { appDataDir } from '../paths.js';
import { destinationOpener, type DestinationOpener } from '../secrets/destination-secrets.js';
import { FileSecretStore, type SecretStore } from '../secrets/secret-store.js';
import { isPidAlive, LockManager } from '../scheduler/locks.js';
import { Scheduler } from '../scheduler/scheduler.js';
import { SyncWriter } from '../team/sync-writer.js';
import { teamSignInStore } from '../team/credentials.js';
import { createEngineOps } from './engine-adapter.js';
import { JobManager } from './job-manager.js';
import type { JobDeps } from './specs.js';
import type { EngineOps } from './types.js';

/**
 * The composition root for anything that runs jobs (CLI commands, the daemon, the
 * Electron main process): one catalog, one lock manager, one job manager, one scheduler.
 */
export interface Runtime extends JobDeps {
  clock: Clock;
  locks: LockManager;
  jobs: JobManager;
  scheduler: Scheduler;
  /** Present when scheduled key rotation is on and there is a key store to keep keys in. */
  keyRotation?: KeyRotator;
  /** Where destination secrets (and imported credentials) are kept. */
  secrets: SecretStore;
  /** Opens a catalog destination with its stored secret (environment credentials win). */
  openDestination: DestinationOpener;
  /** Team sync mode's write side: mirrors catalog changes to the organisation server. */
  sync: SyncWriter;
  close(): void;
}

export interface RuntimeOptions {
  env?: NodeJS.ProcessEnv;
  /** Default: catalog.sqlite in the app data folder. */
  catalogFile?: string;
  /** Needed to run backups and read manifests; omit for catalog-only use. */
  keyring?: Keyring;
  engine?: EngineOps;
  clock?: Clock;
  notifier?: Notifier;
  log?: (message: string) => void;
  /** Scheduled key rotation (needs `keyring`): the store that keeps keys, and how often. */
  keyRotation?: { store: KeyStore; intervalMs: number };
  /** Default: the owner-only secrets.json in the app data folder (the desktop passes safeStorage's). */
  secrets?: SecretStore;
  /** Tests reach the organisation server through their own network. */
  teamFetch?: typeof fetch;
  /**
   * How often queued team actions are retried unprompted (default: the environment's
   * FIREBACKUP_SYNC_RETRY_SECONDS, else 60 s).
   */
  syncRetryMs?: number;
}

/** FIREBACKUP_SYNC_RETRY_SECONDS, when set: how often the offline queue is retried. */
function syncRetryFrom(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.FIREBACKUP_SYNC_RETRY_SECONDS;
  if (raw === undefined || raw === '') return undefined;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0.1 || seconds > 86_400)
    throw new AppError(
      'INVALID_ARGUMENT',
      `FIREBACKUP_SYNC_RETRY_SECONDS must be a number of seconds between 0.1 and 86400 (got "${raw}"); unset it for the default of 60.`,
    );
  return seconds * 1000;
}

export function openCatalog(
  env: NodeJS.ProcessEnv = process.env,
  clock: Clock = systemClock,
): Catalog {
  return Catalog.open(catalogFileFor(env), clock);
}

export function createRuntime(o: RuntimeOptions): Runtime {
  const clock = o.clock ?? systemClock;
  const catalog = o.catalogFile ? Catalog.open(o.catalogFile, clock) : openCatalog(o.env, clock);
  const secrets = o.secrets ?? new FileSecretStore(path.join(appDataDir(o.env), 'secrets.json'));
  const open = destinationOpener(secrets, o.env);
  const engine =
    o.engine ?? (o.keyring ? createEngineOps({ keyring: o.keyring, open }) : missingKeyEngine);
  const locks = new LockManager(() => catalog.db, { clock });
  const retryMs = o.syncRetryMs ?? syncRetryFrom(o.env ?? process.env);
  // Every front end's writes pass here, so each mirrors them in sync mode (and only then).
  const sync = new SyncWriter({
    catalog,
    signIn: teamSignInStore(appDataDir(o.env), secrets),
    dataDir: appDataDir(o.env),
    ...(o.teamFetch !== undefined ? { fetch: o.teamFetch } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(retryMs !== undefined ? { retryMs } : {}),
  });
  // Runs left "running" by a process that died are over: say so in the history. After the
  // sync writer listens, so in sync mode the correction reaches the server too.
  catalog.runs.failAbandoned(isPidAlive, {
    code: 'ABORTED',
    message:
      'The FireBackup process running this job stopped unexpectedly (crash, kill or power loss). Nothing partial was kept; the next run starts afresh.',
    fault: 'system',
    retryable: true,
  });
  const jobs = new JobManager({
    catalog,
    locks,
    clock,
    authorize: (spec, runId) => sync.authorize(spec, runId),
  });
  const keyRotation =
    o.keyRotation && o.keyring
      ? new KeyRotator({
          ...o.keyRotation,
          keyring: o.keyring,
          catalog,
          clock,
          ...(o.notifier ? { notifier: o.notifier } : {}),
          ...(o.log ? { log: o.log } : {}),
        })
      : undefined;
  const scheduler = new Scheduler({
    catalog,
    engine,
    jobs,
    clock,
    ...(o.notifier ? { notifier: o.notifier } : {}),
    ...(o.log ? { log: o.log } : {}),
    ...(keyRotation ? { keyRotation } : {}),
  });
  return {
    catalog,
    engine,
    clock,
    locks,
    jobs,
    scheduler,
    ...(keyRotation ? { keyRotation } : {}),
    secrets,
    openDestination: open,
    sync,
    close: () => {
      sync.close();
      catalog.close();
    },
  };
}

const noKey = (): never => {
  throw new AppError(
    'INTERNAL',
    'This command was started without encryption keys, so it cannot run or read backups. This is a bug; please report it.',
  );
};
const missingKeyEngine: EngineOps = {
  backup: noKey,
  verify: noKey,
  deleteBackup: noKey,
  list: noKey,
};
