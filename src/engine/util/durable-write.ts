import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from './fs-errors.js';

/** The prefix of the temporaries `writeJsonDurably` leaves beside `file` when killed mid-write. */
export function temporaryPrefix(file: string): string {
  return `.${path.basename(file)}.tmp-`;
}

/**
 * Replaces `file` with `data` as owner-only JSON so that a crash leaves either the old
 * file or the new one, never half of either: a temporary beside it, fsynced, renamed over
 * it, then the folder fsynced. On failure the temporary is removed and the error says the
 * file was left as it was (`what` names the file for the user).
 */
export async function writeJsonDurably(
  file: string,
  data: unknown,
  what: string,
  hooks: {
    beforeOpen?: () => Promise<void> | void;
    beforeReplace?: () => Promise<void> | void;
  } = {},
): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${temporaryPrefix(file)}${randomBytes(6).toString('hex')}`);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await hooks.beforeOpen?.();
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(data, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeReplace?.();
    await rename(temp, file);
    const folder = await open(dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    if (error instanceof AppError) throw error;
    throw fromFsError(error, `Cannot write ${what}; it was left as it was`);
  }
}
