import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, constants, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError, isAppError } from '../../shared/errors.js';
import { fromFsError } from '../util/fs-errors.js';
import { fsyncPath } from '../util/fsync-path.js';
import type { Catalog } from './catalog.js';
import { makeCatalogFolder } from './db.js';
import { CATALOG_FILE_NAME } from './location.js';

/**
 * Moving the catalog to another folder (the Settings screen's "Catalog folder") without
 * ever losing it: an online copy (SQLite's backup API, consistent while open) into a
 * temporary in the new folder, verified (integrity check, schema version, every table's
 * row count) before it is renamed into place; only then may the caller switch. The old
 * file is never deleted here: after the switch it is renamed aside
 * (`retireOldCatalog`), so nothing opens it by mistake and it is still there to go back to.
 */
export interface CatalogMove {
  /** The catalog file to switch to. */
  file: string;
  /** True: a verified copy of this catalog; false: the folder's own catalog, opened as is. */
  copied: boolean;
}

/** Checks the folder and the moment, then copies and verifies; the caller switches. */
export async function copyCatalogTo(
  catalog: Catalog,
  folder: string,
  o: { useExisting?: boolean } = {},
): Promise<CatalogMove> {
  if (!path.isAbsolute(folder)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${folder}" is not a full path. Give the catalog folder's full path (e.g. /home/you/firebackup-catalog).`,
    );
  }
  const file = path.join(path.resolve(folder), CATALOG_FILE_NAME);
  if (file === path.resolve(catalog.db.name)) return { file, copied: false };
  assertQuiet(catalog);
  makeCatalogFolder(folder, 'Choose a folder you can write to; the catalog stays where it is.');
  await assertWritable(folder);
  if (existsSync(file)) {
    if (o.useExisting) {
      verifyCatalogFile(file);
      return { file, copied: false };
    }
    throw new AppError(
      'ALREADY_EXISTS',
      `${folder} already holds a catalog (${CATALOG_FILE_NAME}), not this one. Open that catalog instead, or choose an empty folder: FireBackup never overwrites a catalog.`,
    );
  }
  const temp = path.join(folder, `.${CATALOG_FILE_NAME}.moving-${randomBytes(6).toString('hex')}`);
  try {
    await catalog.db.backup(temp);
    // A single file (no -wal/-shm beside a temporary name); opening it turns WAL back on.
    const copy = new Database(temp);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    await fsyncPath(temp);
    verifyCopy(catalog, temp);
    await rename(temp, file);
    await fsyncPath(folder);
  } catch (error) {
    await rm(temp, { force: true });
    if (isAppError(error)) throw error;
    throw fromFsError(error, `Cannot copy the catalog to ${folder}; it stays where it is`);
  }
  return { file, copied: true };
}

/**
 * After the switch: the old file is renamed to `catalog.sqlite.moved-<time>` (kept, not
 * deleted), so a front end that still looks in the old place finds no catalog rather
 * than a stale one. Its -wal and -shm were merged and removed when it was closed.
 */
export async function retireOldCatalog(file: string, now: Date): Promise<string | undefined> {
  if (!existsSync(file)) return undefined;
  const aside = `${file}.moved-${now.toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  return aside;
}

/** No job running, in this process or any other sharing the catalog (runs are in it). */
function assertQuiet(catalog: Catalog): void {
  const running =
    catalog.runs.list({ status: 'running' }).length +
    catalog.runs.list({ status: 'queued' }).length;
  if (running > 0) {
    throw new AppError(
      'ABORTED',
      `${running} job(s) are running. Move the catalog when no backup, verify or restore runs (see History).`,
      { retryable: true },
    );
  }
}

async function assertWritable(folder: string): Promise<void> {
  try {
    await access(folder, constants.W_OK | constants.X_OK);
    const probe = path.join(folder, `.firebackup-write-test-${randomBytes(4).toString('hex')}`);
    await (await open(probe, 'wx', 0o600)).close();
    await rm(probe);
  } catch {
    throw new AppError(
      'PERMISSION_DENIED',
      `FireBackup cannot write in ${folder}, so the catalog cannot move there; it stays where it is. Choose a folder you can write to.`,
    );
  }
}

/** Table name → row count, from a connection. */
function counts(db: Database.Database): Map<string, number> {
  const tables = db
    .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    .all() as { name: string }[];
  return new Map(
    tables.map(({ name }) => [
      name,
      (db.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number })
        .n,
    ]),
  );
}

/** A catalog file that is whole (the integrity check), read-only: nothing is written to it. */
function verifyCatalogFile(file: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') throw new Error(String(check));
    return db;
  } catch (error) {
    db?.close();
    throw new AppError(
      'INTEGRITY',
      `${file} is not a readable catalog (${(error as Error).message}). Nothing was changed; choose another folder.`,
    );
  }
}

/** The copy has the same schema version and the same rows, table by table. */
function verifyCopy(catalog: Catalog, copy: string): void {
  const db = verifyCatalogFile(copy);
  try {
    const want = counts(catalog.db);
    const got = counts(db);
    const version = (d: Database.Database) => d.pragma('user_version', { simple: true });
    const same =
      version(db) === version(catalog.db) &&
      want.size === got.size &&
      [...want].every(([name, n]) => got.get(name) === n);
    if (!same) {
      throw new AppError(
        'INTEGRITY',
        'The copy of the catalog does not match the original (row counts differ), so the catalog stays where it is. Try again; if it persists, check the disk of the new folder.',
      );
    }
  } finally {
    db.close();
  }
}
