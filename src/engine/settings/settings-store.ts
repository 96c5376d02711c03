import type Conf from 'conf';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import {
  applySettingsPatch,
  DEFAULT_SETTINGS,
  migrateSettings,
  type Settings,
  type SettingsPatch,
} from '../../shared/settings.js';
import { appDataDir } from '../paths.js';

/**
 * Where the app's settings live, whichever front end reads them. The Electron main
 * process opens the same file with electron-store 11 (built on conf):
 * `new Store({ cwd: appDataDir(), name: SETTINGS_FILE_NAME })`, and validates it with the
 * same shared schema (src/shared/settings.ts), so all front ends see the same values.
 */
export interface SettingsStore {
  get(): Settings;
  update(patch: SettingsPatch): Settings;
  /** The file, for messages (named as electron-store and conf name it, so theirs fit). */
  readonly path: string;
}

export const SETTINGS_FILE_NAME = 'settings';

/** The settings file's folder: the app data folder (FIREBACKUP_HOME or the OS convention). */
export function settingsDir(env: NodeJS.ProcessEnv = process.env): string {
  return appDataDir(env);
}

/**
 * conf-backed settings: conf writes atomically (temporary + rename), so a crash leaves the
 * old file or the new one. What is read is migrated and validated by the shared schema;
 * conf's own JSON-schema and migrations are not used, so the rules live in one place.
 */
export class ConfSettingsStore implements SettingsStore {
  readonly #conf: Conf<Record<string, unknown>>;

  /** Opens (or starts) the settings file in `dir`. */
  static async open(dir: string): Promise<ConfSettingsStore> {
    return new ConfSettingsStore(await loadConf(), dir);
  }

  private constructor(ConfClass: typeof Conf, dir: string) {
    try {
      this.#conf = new ConfClass<Record<string, unknown>>({
        cwd: dir,
        configName: SETTINGS_FILE_NAME,
        // A damaged file is reported, never silently replaced by defaults.
        clearInvalidConfig: false,
        configFileMode: 0o600,
      });
    } catch (error) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `The settings file ${path.join(dir, `${SETTINGS_FILE_NAME}.json`)} cannot be read (${error instanceof Error ? error.message : String(error)}). Fix or delete it; FireBackup then starts with default settings.`,
        { cause: error },
      );
    }
  }

  get path(): string {
    return this.#conf.path;
  }

  get(): Settings {
    const stored = this.#conf.store;
    return Object.keys(stored).length === 0 ? DEFAULT_SETTINGS : migrateSettings(stored);
  }

  update(patch: SettingsPatch): Settings {
    const next = applySettingsPatch(this.get(), patch);
    this.#conf.store = next as unknown as Record<string, unknown>;
    return next;
  }
}

/** Signals a process may handle itself; see loadConf. */
const HANDLED_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];

/**
 * conf, imported without its side effect on signals. conf writes through `atomically`,
 * whose `when-exit` hooks SIGINT/SIGTERM/SIGHUP once at import and re-sends the signal to
 * the process after its clean-up: the process then dies on the first Ctrl-C, before
 * `firebackup ui` or the daemon can cancel running jobs and keep nothing partial (seen as
 * exit 130 with the job still running). The hooks are removed again right after the
 * import; they only deleted a temporary file of an interrupted settings write, which the
 * next write replaces anyway. (The Electron main process, loading electron-store, needs
 * the same care.)
 */
async function loadConf(): Promise<typeof Conf> {
  const before = new Map(HANDLED_SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const { default: ConfClass } = await import('conf');
  for (const signal of HANDLED_SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return ConfClass;
}
