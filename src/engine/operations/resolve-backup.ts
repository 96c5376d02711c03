import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { BACKUP_ID_PATTERN, type BackupSummary } from '../../shared/backups.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { Keyring } from '../keys/keyring.js';
import type { StorageBackend } from '../storage/backend.js';
import { LocalBackend } from '../storage/local/local-backend.js';
import { damagedManifest } from './bind-to-manifest.js';
import { ARCHIVE_SUFFIX, archiveKeyOf } from './backup-names.js';
import { BackupScanner } from './backup-scanner.js';
import { listBackups } from './list.js';
import { readManifest } from './manifest.js';

/** Where one backup's archive is: everything `verify`, `inspect` and `restore` need. */
export interface ResolvedBackup {
  destination: StorageBackend;
  archiveKey: string;
  /** The backup id, when the archive follows the naming of docs/design.md §1. */
  id: string | undefined;
  /** How to name the backup in messages. */
  label: string;
}

/** Which backups `latest` may mean: of this project (and database). */
export interface BackupScope {
  project?: string | undefined;
  database?: string | undefined;
}

export interface ResolveOptions {
  /** Opens manifests, to learn which project each backup is of (needed for `latest`). */
  keyring?: Keyring;
  scope?: BackupScope;
  /** How the user names the scope, for messages: the flags of the command. */
  scopeFlags?: { project: string; database: string };
}

/**
 * Turns what a user typed into an archive location: `<id>` or `latest` with `--from`,
 * or the path of an archive file on its own.
 */
export async function resolveBackup(
  ref: string,
  from: StorageBackend | undefined,
  options: ResolveOptions = {},
): Promise<ResolvedBackup> {
  if (!from) {
    if (!existsSync(ref) || !statSync(ref).isFile()) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `"${ref}" is not an archive file. Give the path of a .fbk file, or a backup id (or "latest") with --from <destination>.`,
      );
    }
    const file = path.resolve(ref);
    const name = path.basename(file);
    return {
      destination: new LocalBackend(path.dirname(file)),
      archiveKey: name,
      id: idOfArchiveName(name),
      label: file,
    };
  }
  let id: string | undefined;
  let archiveKey: string;
  if (ref === 'latest') {
    id = await latestOf(from, options);
    archiveKey = archiveKeyOf(id);
  } else if (BACKUP_ID_PATTERN.test(ref)) {
    id = ref;
    archiveKey = archiveKeyOf(ref);
  } else if (ref.endsWith(ARCHIVE_SUFFIX)) {
    archiveKey = ref;
    id = idOfArchiveName(path.posix.basename(ref));
  } else {
    throw new AppError(
      'INVALID_ARGUMENT',
      `"${ref}" is not a backup id. Use an id from \`firebackup list --from ${from.displayUrl}\` (bkp_…), "latest", or an archive file path.`,
    );
  }
  try {
    await from.stat(archiveKey);
  } catch (error) {
    if (isAppError(error) && error.code === 'NOT_FOUND') {
      throw new AppError(
        'NOT_FOUND',
        `No backup "${ref}" in ${from.displayUrl}. Run \`firebackup list --from ${from.displayUrl}\` to see the backups there.`,
      );
    }
    throw error;
  }
  return { destination: from, archiveKey, id, label: id ?? archiveKey };
}

function idOfArchiveName(name: string): string | undefined {
  const id = name.endsWith(ARCHIVE_SUFFIX) ? name.slice(0, -ARCHIVE_SUFFIX.length) : undefined;
  return id && BACKUP_ID_PATTERN.test(id) ? id : undefined;
}

const DEFAULT_SCOPE_FLAGS = { project: '--project', database: '--database' };

function pairOf(b: BackupSummary): string {
  return `${b.project ?? '?'}/${b.database ?? '?'}`;
}

/**
 * The newest complete backup of the scope's project and database. A destination may hold
 * backups of several projects (a folder shared by prod and staging): `latest` must never
 * silently pick another project's backup, so when the scope leaves a choice open it
 * refuses and lists what is there. A newer backup whose key is not held could be of the
 * same project, so it stops the choice too rather than an older backup being taken.
 */
async function latestOf(from: StorageBackend, options: ResolveOptions): Promise<string> {
  const flags = options.scopeFlags ?? DEFAULT_SCOPE_FLAGS;
  const { project, database } = options.scope ?? {};
  const all = await listBackups(from, options.keyring ?? new Keyring(undefined));
  if (!all.length) {
    throw new AppError('NOT_FOUND', `There is no complete backup in ${from.displayUrl}.`);
  }
  const matching = all.filter(
    (b) =>
      b.readable &&
      (project === undefined || b.project === project) &&
      (database === undefined || b.database === database),
  );
  const present = countBy(all.filter((b) => b.readable).map(pairOf));
  const listing = [...present].map(([pair, n]) => `${pair} (${n})`).join(', ');
  const newest = matching[0];
  const newerUnreadable = all.find((b) => !b.readable && (!newest || b.id > newest.id));
  if (newerUnreadable?.error) {
    // Damage, not a missing key: say so (a damaged manifest could be of this project).
    throw new AppError(
      newerUnreadable.error.code,
      `"latest" cannot be chosen in ${from.displayUrl}: the manifest of backup ${newerUnreadable.id}, newer than any backup it can read, is damaged (${newerUnreadable.error.message}), so which project it is of is unknown. Name the backup by id, or run \`firebackup check --from ${from.displayUrl}\`.`,
    );
  }
  if (newerUnreadable) {
    throw new AppError(
      'KEY_NOT_FOUND',
      `"latest" cannot be chosen in ${from.displayUrl}: backup ${newerUnreadable.id} is newer than any backup it can read, and its key ${newerUnreadable.keyId} is not among the keys given, so which project it is of is unknown. Give that key, or name the backup by id.`,
    );
  }
  if (!newest) {
    const wanted = `${project ?? '*'}/${database ?? '*'}`;
    throw new AppError(
      'NOT_FOUND',
      `There is no backup of ${wanted} in ${from.displayUrl}. It holds backups of: ${listing}.`,
    );
  }
  const pairs = new Set(matching.map(pairOf));
  if (pairs.size > 1) {
    const needed = project === undefined ? `${flags.project} <id>` : `${flags.database} <id>`;
    throw new AppError(
      'INVALID_ARGUMENT',
      `${from.displayUrl} holds backups of more than one project or database: ${listing}. Say which one "latest" means with ${needed}${project === undefined ? ` (and ${flags.database} <id> if needed)` : ''}.`,
    );
  }
  return newest.id;
}

function countBy(keys: string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return counts;
}

/** What a backup is of: what every command says before it acts on one. */
export interface BackupOrigin {
  project: string;
  database: string;
  createdAt: string;
}

/**
 * The project and database a backup is of: from its manifest when there is one (a small
 * read), else from the archive's header (the first segment only).
 */
export async function originOf(backup: ResolvedBackup, keyring: Keyring): Promise<BackupOrigin> {
  if (backup.id) {
    const manifest = await readManifest(backup.destination, backup.id, keyring).catch(
      (error: unknown) => {
        if (isAppError(error) && error.code === 'NOT_FOUND') return undefined;
        throw damagedManifest(backup.id!, error) ?? error;
      },
    );
    if (manifest) return pick(manifest);
  }
  const scanner = new BackupScanner(backup, keyring);
  for await (const _ of scanner.records()) break; // any first record: the header is read
  if (!scanner.header) {
    throw new AppError('ARCHIVE_CORRUPT', `${backup.label}: the archive holds no backup header.`);
  }
  return pick(scanner.header);
}

function pick(o: BackupOrigin): BackupOrigin {
  return { project: o.project, database: o.database, createdAt: o.createdAt };
}

/** Refuses a backup named by id that is not of the project (or database) the user named. */
export function checkScope(
  backup: ResolvedBackup,
  origin: BackupOrigin,
  scope: BackupScope,
  flags = DEFAULT_SCOPE_FLAGS,
): void {
  const wrong =
    scope.project !== undefined && origin.project !== scope.project
      ? `${flags.project} ${scope.project}`
      : scope.database !== undefined && origin.database !== scope.database
        ? `${flags.database} ${scope.database}`
        : undefined;
  if (wrong) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `Backup ${backup.label} is of ${origin.project}/${origin.database}, not what ${wrong} names. Check the backup id, or leave out ${wrong.split(' ')[0]}.`,
    );
  }
}
