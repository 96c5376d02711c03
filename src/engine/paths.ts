import os from 'node:os';
import path from 'node:path';

/**
 * The app's data folder (catalog, locks, daemon state): `$FIREBACKUP_HOME` when set,
 * else the platform's convention. One place, so the CLI, the daemon and the desktop app
 * always agree on where the catalog lives.
 */
export function appDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = os.homedir(),
): string {
  if (env.FIREBACKUP_HOME) return path.resolve(env.FIREBACKUP_HOME);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'FireBackup');
  if (platform === 'win32') {
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'FireBackup');
  }
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'firebackup');
}

export function catalogPath(dataDir: string = appDataDir()): string {
  return path.join(dataDir, 'catalog.sqlite');
}
