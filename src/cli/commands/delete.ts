import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { deleteBackup } from '../../engine/operations/delete.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { addBackupLocationFlags, resolveBackupFromFlags } from '../destination-flags.js';

interface DeleteFlags extends CommonFlags {
  from?: string;
  yes?: boolean;
}

export function registerDelete(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('delete <backup>')
    .description('delete one backup (its archive and manifest) from a destination')
    .option('--yes', 'really delete: a deleted backup cannot be restored');
  addBackupLocationFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: DeleteFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        if (!flags.from) {
          throw new AppError(
            'INVALID_ARGUMENT',
            'Delete from where? Pass --from <destination> with the backup id.',
          );
        }
        const backup = await resolveBackupFromFlags(ref, flags);
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
          { ok: true, deleted: backup.id },
          `Deleted backup ${backup.id} from ${backup.destination.displayUrl}.`,
        );
      }),
    );
  });
}
