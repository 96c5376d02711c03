import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway folder for one CLI test file: FireBackup's home inside it, a destination
 * beside that, and the environment that uses them with `key`. Remove `dir` when done.
 */
export function makeCliSandbox(
  prefix: string,
  key: string,
): { dir: string; dest: string; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    dest: path.join(dir, 'dest'),
    env: { FIREBACKUP_HOME: path.join(dir, 'home'), ENCRYPTION_KEY: key },
  };
}
