/**
 * The app's settings in electron-store, behind the same small interface the CLI and the
 * web mode use over its base `conf`: one file (settings.json in the app data folder, the
 * catalog's folder), one zod schema and its migrations (src/shared/settings.ts), so every
 * front end reads and writes the same values. Validation and migration happen here, on
 * every read and write, rather than in electron-store's JSON-schema option, so the schema
 * is written once (zod) and a bad field falls back alone instead of failing the store.
 */
import {
  applySettingsPatch,
  migrateSettings,
  SettingsPatchSchema,
  type Settings,
} from '../shared/settings.js';
import { AppError } from '../shared/errors.js';
import {
  importWithoutSignalHooks,
  SETTINGS_FILE_NAME,
  settingsDir,
  type SettingsStore as EngineSettingsStore,
} from '../engine/settings/settings-store.js';

/** Where the settings live: the engine's conf store's file (CLI, web mode), opened here too. */
export function settingsLocation(env: NodeJS.ProcessEnv = process.env): {
  cwd: string;
  name: string;
} {
  return { cwd: settingsDir(env), name: SETTINGS_FILE_NAME };
}

/** What electron-store and conf have in common that is used here. */
export interface ConfLike {
  store: Record<string, unknown>;
  readonly path: string;
  onDidAnyChange(callback: () => void): () => void;
}

/** The engine's settings interface (what the contract's handlers use), plus change events. */
export interface SettingsStore extends EngineSettingsStore {
  /** Called after any change, including one made by another process to the same file. */
  onChange(listener: (settings: Settings) => void): () => void;
}

export function settingsStore(conf: ConfLike): SettingsStore {
  const get = (): Settings => migrateSettings(conf.store);
  return {
    path: conf.path,
    get,
    update(patch) {
      const parsed = SettingsPatchSchema.safeParse(patch);
      if (!parsed.success)
        throw new AppError(
          'INVALID_ARGUMENT',
          `Invalid settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}.`,
        );
      const next = applySettingsPatch(get(), parsed.data);
      conf.store = next as unknown as Record<string, unknown>;
      return next;
    },
    onChange: (listener) => conf.onDidAnyChange(() => listener(get())),
  };
}

/**
 * electron-store over the shared file. Imported lazily: electron-store imports electron at
 * load, so only the Electron main process may load it.
 */
export async function openDesktopSettings(
  env: NodeJS.ProcessEnv = process.env,
): Promise<SettingsStore> {
  // Without conf's signal hooks, which would kill the app on SIGTERM before Quit cancels jobs.
  const { default: ElectronStore } = await importWithoutSignalHooks(() => import('electron-store'));
  const { cwd, name } = settingsLocation(env);
  // watch: the CLI or a `firebackup ui` may change the file while the app runs.
  return settingsStore(new ElectronStore({ cwd, name, watch: true }) as unknown as ConfLike);
}
