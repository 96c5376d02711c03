import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, isAppError } from '../../shared/errors.js';
import { makeDirectorySync } from '../util/make-directory.js';
import { MIGRATIONS } from './migrations/index.js';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the catalog database and brings its schema up to date.
 * WAL + a busy timeout let the daemon, the CLI and the desktop app share one file.
 */
export function openDb(file: string): Db {
  if (file !== ':memory:') makeCatalogFolder(path.dirname(file));
  let db: Db;
  try {
    if (file !== ':memory:') createOwnerOnly(file);
    db = new Database(file, { timeout: 5000 });
  } catch (cause) {
    throw new AppError(
      'PERMISSION_DENIED',
      `Cannot open the catalog at ${file}: ${(cause as Error).message}. Check the folder is writable, or set FIREBACKUP_HOME to another folder.`,
      { cause },
    );
  }
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db, file);
  return db;
}

/**
 * A new catalog file is created 0600 before SQLite opens it (SQLite would make it 0644
 * less the umask, and gives its -wal and -shm files the database file's mode): it names
 * projects, destinations and credentials files. An existing file keeps its mode.
 */
function createOwnerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
}

/**
 * The catalog's folder, one level at a time (never Node's recursive mkdir, see
 * makeDirectory); `advice` ends the message of a failure.
 */
export function makeCatalogFolder(
  dir: string,
  advice = 'Set FIREBACKUP_HOME to a folder you can write to.',
): void {
  try {
    // Owner-only for every level it has to make; an existing folder keeps its mode.
    makeDirectorySync(dir, 0o700);
  } catch (error) {
    if (!isAppError(error)) throw error;
    throw new AppError(
      error.code,
      `${error.message.replace(/ Choose another destination\.$/, '')} (the catalog's folder). ${advice}`,
      { cause: error },
    );
  }
}

export function migrate(db: Db, file = 'catalog'): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = MIGRATIONS.at(-1)?.version ?? 0;
  if (current > latest) {
    throw new AppError(
      'ARCHIVE_UNSUPPORTED',
      `The catalog at ${file} was written by a newer FireBackup (schema ${current}, this one knows ${latest}). Update FireBackup, or run "firebackup catalog rebuild" with a fresh FIREBACKUP_HOME.`,
    );
  }
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    }).immediate();
  }
}

/** JSON column helpers: null stays null, so "unknown" and "empty" stay distinct. */
export const json = {
  write: (value: unknown): string | null =>
    value === undefined || value === null ? null : JSON.stringify(value),
  read: <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T)),
};
