import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { deleteBackup } from '../../engine/operations/delete.js';
import { addScopeFlags, resolveAndDescribe, type ScopeFlags } from '../backup-ref.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addBackupLocationFlags } from '../destination-flags.js';

interface DeleteFlags extends CommonFlags, ScopeFlags {
  yes?: boolean;
}

export function registerDelete(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('delete <backup>')
    .description('delete one backup (its archive and manifest) from a destination')
    .option('--yes', 'really delete: a deleted backup cannot be restored');
  addBackupLocationFlags(command);
  addScopeFlags(command);
  // Optional: with the key, the backup's project and database are named before deleting.
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: DeleteFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const keyring = await keyringFor(io, flags);
        const { backup, origin } = await resolveAndDescribe(ref, flags, keyring, out);
        if (!backup.id)
          throw new AppError(
            'INVALID_ARGUMENT',
            `"${ref}" is not a backup of ${backup.destination.displayUrl}.`,
          );
        if (!flags.yes) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `This would delete backup ${backup.id} from ${backup.destination.displayUrl} for good. Run again with --yes to do it.`,
          );
        }
        await deleteBackup(backup.destination, backup.id);
        out.result(
          { ok: true, deleted: backup.id, of: origin ?? null },
          `Deleted backup ${backup.id} from ${backup.destination.displayUrl}.`,
        );
      }),
    );
  });
}
