import { AppError, toErrorData } from '../../shared/errors.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Clock } from '../clock.js';
import type { Notifier } from '../notify/notifier.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import type { KeyStore } from './key-store.js';
import type { Keyring } from './keyring.js';

/** The security guide's default: a new key every 90 days. */
export const DEFAULT_ROTATION_INTERVAL = '90d';

export type RotationSettings = { enabled: false } | { enabled: true; intervalMs: number };

/**
 * ENCRYPTION_KEY_ROTATION=true|false and ENCRYPTION_KEY_ROTATION_INTERVAL (90d, 12h…).
 * Anything else is refused: a typo must not silently turn rotation off.
 */
export function rotationSettingsFromEnv(env: NodeJS.ProcessEnv): RotationSettings {
  const flag = (env.ENCRYPTION_KEY_ROTATION ?? '').trim().toLowerCase();
  if (!['', 'true', 'false', '1', '0', 'yes', 'no'].includes(flag)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `ENCRYPTION_KEY_ROTATION must be true or false, not "${env.ENCRYPTION_KEY_ROTATION}".`,
    );
  }
  const interval = env.ENCRYPTION_KEY_ROTATION_INTERVAL;
  // Checked even when rotation is off, so a bad value is found before it matters.
  const intervalMs = parseDuration(
    interval ?? DEFAULT_ROTATION_INTERVAL,
    'ENCRYPTION_KEY_ROTATION_INTERVAL',
  );
  return ['true', '1', 'yes'].includes(flag) ? { enabled: true, intervalMs } : { enabled: false };
}

export interface KeyRotatorOptions {
  store: KeyStore;
  intervalMs: number;
  /** The keyring this process's jobs use: it takes the new key as soon as it exists. */
  keyring: Keyring;
  catalog: Catalog;
  clock: Clock;
  notifier?: Notifier;
  log?: (message: string) => void;
}

/**
 * Scheduled rotation: the scheduler asks before it starts backups. The store decides
 * under its lock whether the current key is older than the interval, so a daemon and a
 * CLI run rotate once between them; either way this process's keyring then holds the
 * store's current key (also when another process rotated). A rotation is recorded in the
 * history as a `rotate` run and notified.
 */
export class KeyRotator {
  constructor(private readonly o: KeyRotatorOptions) {}

  async rotateIfDue(): Promise<void> {
    const { store, keyring, catalog } = this.o;
    const result = await store.rotateIfDue(this.o.intervalMs);
    if (keyring.currentKey?.id !== result.current.id) keyring.adopt(result.current);
    if (!result.rotated) return;
    const message = `Key rotated on schedule (every ${formatDuration(this.o.intervalMs)}): new backups are made with key ${result.current.id}${result.previousKeyId ? `; ${result.previousKeyId} is kept for reading` : ''}. Back up the key store ${store.file} now.`;
    this.o.log?.(message);
    const run = catalog.runs.create({
      kind: 'rotate',
      trigger: 'schedule',
      status: 'succeeded',
      detail: {
        keyId: result.current.id,
        previousKeyId: result.previousKeyId ?? null,
        keyStore: store.file,
      },
    });
    try {
      await this.o.notifier?.notify({
        kind: 'key.rotated',
        message,
        schedule: null,
        project: null,
        run,
        at: this.o.clock.now().toISOString(),
      });
    } catch (error) {
      this.o.log?.(`Could not send a notification: ${toErrorData(error).message}`);
    }
  }

  /** What the daemon says at start about rotation. */
  async describe(): Promise<string> {
    const since = await this.o.store.currentSince();
    const due = new Date(since.getTime() + this.o.intervalMs);
    return `Key rotation on: every ${formatDuration(this.o.intervalMs)}; current key ${this.o.keyring.currentKey?.id ?? '?'} made ${since.toISOString()}, next rotation due ${due.toISOString()} (key store ${this.o.store.file}).`;
  }
}

/** Said at daemon start when rotation is asked for but the keys come only from the environment. */
export function rotationImpossibleMessage(storeFile: string): string {
  return `WARNING: ENCRYPTION_KEY_ROTATION is on, but the key comes only from ENCRYPTION_KEY or --key-file: there is nowhere to keep a new key, so keys will NOT be rotated. Run \`firebackup keys rotate\` once to create the key store at ${storeFile}; the daemon then rotates on schedule.`;
}
