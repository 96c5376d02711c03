import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from './fs-errors.js';

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdir loops forever, at full CPU and
 * deaf to signals, on a path where a folder can never be made (`/proc/x`: the parent
 * exists but refuses with ENOENT); creating each missing level ourselves turns that into
 * one clear error. `mode` applies to every level made (less the umask).
 */
export async function makeDirectory(dir: string, mode?: number): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    const info = await stat(current).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw fromFsError(error, `Cannot create the folder ${dir}`);
    });
    if (info) {
      if (!info.isDirectory()) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `Cannot create the folder ${dir}: ${current} is a file, not a folder. Choose another destination.`,
        );
      }
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    try {
      await mkdir(level, mode === undefined ? undefined : { mode });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made meanwhile by someone else: fine
      if (code === 'ENOENT') {
        // The parent is there (made or checked just before) yet refuses a new folder.
        throw new AppError(
          'INVALID_ARGUMENT',
          `Cannot create the folder ${dir}: ${path.dirname(level)} does not accept new folders. Choose another destination.`,
          { cause: error },
        );
      }
      throw fromFsError(error, `Cannot create the folder ${dir}`);
    }
  }
}
