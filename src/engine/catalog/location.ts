import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { migrateSettings } from '../../shared/settings.js';
import { appDataDir, catalogPath } from '../paths.js';

/** The catalog's file name, in whichever folder it lives. */
export const CATALOG_FILE_NAME = path.basename(catalogPath('/'));

/** The settings file, as conf and electron-store name it (src/engine/settings/settings-store.ts). */
export const settingsFile = (env: NodeJS.ProcessEnv = process.env): string =>
  path.join(appDataDir(env), 'settings.json');

/**
 * Where the catalog is, for every front end (app, CLI, daemon, web mode): the folder the
 * Settings screen chose (`catalogPath` in the shared settings file), else the app data
 * folder. Read synchronously and on every call, so a process started after a move finds
 * the new place. A settings file that cannot be read is an error, never "the default":
 * guessing would open (or start) a different, empty catalog.
 */
export function catalogFileFor(env: NodeJS.ProcessEnv = process.env): string {
  const file = settingsFile(env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return catalogPath(appDataDir(env));
    throw new AppError(
      'PERMISSION_DENIED',
      `Cannot read the settings file ${file}, which says where the catalog is (${(error as Error).message}). Make it readable.`,
    );
  }
  let folder: string | null;
  try {
    folder = migrateSettings(JSON.parse(text)).catalogPath;
  } catch {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The settings file ${file} is damaged, so FireBackup cannot tell where the catalog is. Fix it, or delete it to use the catalog in ${appDataDir(env)}.`,
    );
  }
  return folder ? path.join(folder, CATALOG_FILE_NAME) : catalogPath(appDataDir(env));
}
