import type { Command } from 'commander';
import { isAppError } from '../shared/errors.js';
import type { Keyring } from '../engine/keys/keyring.js';
import {
  checkScope,
  originOf,
  type BackupOrigin,
  type ResolvedBackup,
} from '../engine/operations/resolve-backup.js';
import { resolveBackupFromFlags } from './destination-flags.js';
import type { Output } from './output.js';

/** The flags that say which project's backups `latest` means. */
export interface ScopeFlagNames {
  project: string;
  database: string;
}

const SCOPE_FLAGS: ScopeFlagNames = { project: '--project', database: '--database' };
/** restore's --database is the target's, so the source database has its own flag. */
export const RESTORE_SCOPE_FLAGS: ScopeFlagNames = {
  project: '--project',
  database: '--from-database',
};

export interface ScopeFlags {
  project?: string;
  database?: string;
  fromDatabase?: string;
  from?: string;
}

export function addScopeFlags(command: Command, names: ScopeFlagNames = SCOPE_FLAGS): Command {
  return command
    .option(
      `${names.project} <id>`,
      'the project whose backups "latest" means (needed when the destination holds several); a backup named by id must be of it',
    )
    .option(
      `${names.database} <id>`,
      'the Firestore database whose backups "latest" means (when the project has several)',
    );
}

/**
 * Finds the backup `ref` names within the scope the flags give, and says on stderr which
 * project and database it is of before the command acts on it: a user about to restore or
 * delete sees what they are about to touch.
 */
export async function resolveAndAnnounce(
  ref: string,
  flags: ScopeFlags,
  keyring: Keyring,
  out: Output,
  names: ScopeFlagNames = SCOPE_FLAGS,
): Promise<{ backup: ResolvedBackup; origin: BackupOrigin }> {
  const { backup, origin } = await resolveAndDescribe(ref, flags, keyring, out, names, false);
  return { backup, origin: origin! };
}

/**
 * As resolveAndAnnounce, but a backup named by id whose key is not held is still found
 * (delete needs no key): the line then says its project cannot be known.
 */
export async function resolveAndDescribe(
  ref: string,
  flags: ScopeFlags,
  keyring: Keyring,
  out: Output,
  names: ScopeFlagNames = SCOPE_FLAGS,
  keyOptional = true,
): Promise<{ backup: ResolvedBackup; origin: BackupOrigin | undefined }> {
  const scope = {
    project: flags.project,
    database: names === RESTORE_SCOPE_FLAGS ? flags.fromDatabase : flags.database,
  };
  const backup = await resolveBackupFromFlags(ref, flags, { keyring, scope, scopeFlags: names });
  const origin = await originOf(backup, keyring).catch((error: unknown) => {
    const scoped = scope.project !== undefined || scope.database !== undefined;
    if (keyOptional && !scoped && isAppError(error) && error.code === 'KEY_NOT_FOUND') {
      return undefined;
    }
    throw error;
  });
  if (!origin) {
    out.info(
      `Backup ${backup.label}: its project and database cannot be shown, as its key is not among the keys given.`,
    );
    return { backup, origin };
  }
  checkScope(backup, origin, scope, names);
  out.info(
    `Backup ${backup.label} of ${origin.project}/${origin.database}, made ${origin.createdAt}`,
  );
  return { backup, origin };
}
