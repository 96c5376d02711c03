import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { isPidAlive } from '../scheduler/locks.js';
import { fromFsError } from './fs-errors.js';

/**
 * Runs `body` while holding `lock`, an O_EXCL lock file holding our pid, so that one
 * process at a time (of any front end: the CLI, the web mode, the desktop app) does it.
 * A lock left by a crashed process (its pid is gone, or it is very old) is taken over;
 * one held for longer than `waitMs` by a live process fails as ABORTED, naming the file.
 * `what` names the guarded file for the person ("the key store /…/keys.json").
 */
export async function withFileLock<T>(
  lock: string,
  what: string,
  body: () => Promise<T>,
  o: { waitMs?: number; staleMs?: number } = {},
): Promise<T> {
  const waitMs = o.waitMs ?? 30_000;
  const staleMs = o.staleMs ?? 2 * 60_000;
  await mkdir(path.dirname(lock), { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw fromFsError(error, `Cannot create the folder of ${what}`);
  });
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const handle = await open(lock, 'wx', 0o600);
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw fromFsError(error, `Cannot lock ${what}`);
      if (await isStaleLock(lock, staleMs)) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new AppError(
          'ABORTED',
          `${what.charAt(0).toUpperCase()}${what.slice(1)} is locked by another FireBackup process (${lock}). Try again; if no other process runs, delete the lock file.`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

/** A lock whose process is gone (or that is very old) was left by a crash. */
async function isStaleLock(lock: string, staleMs: number): Promise<boolean> {
  const [pidText, info] = await Promise.all([
    readFile(lock, 'utf8').catch(() => ''),
    stat(lock).catch(() => undefined),
  ]);
  if (!info) return false; // released meanwhile: just try again
  const pid = Number(pidText);
  if (Date.now() - info.mtimeMs > staleMs) return true;
  // No pid yet: the owner is between creating and writing it, unless that was long ago.
  if (!Number.isInteger(pid) || pid <= 0) return Date.now() - info.mtimeMs > 1000;
  return !isPidAlive(pid);
}
