import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { listBackups } from '../../engine/operations/list.js';
import { LocalBackend } from '../../engine/storage/local/local-backend.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addDestinationFlags, openDestinationFromFlags } from '../destination-flags.js';
import { formatBytes, formatCount } from '../output.js';
import { otherSourceCounts } from '../source-flags.js';
import { table } from '../table.js';

interface ListFlags extends CommonFlags {
  from: string;
}

export function registerList(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('list')
    .description('list the complete backups in a destination, newest first')
    .requiredOption('--from <destination>', 'a folder (or file://, s3://, gs:// URL)');
  addDestinationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: ListFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const keyring = await keyringFor(io, flags);
        const destination = await openDestinationFromFlags(flags.from, flags);
        // A folder that does not exist is most likely a typo: say so, not "No backups".
        if (destination instanceof LocalBackend && !existsSync(destination.displayUrl)) {
          throw new AppError(
            'NOT_FOUND',
            `There is no folder ${destination.displayUrl}. Check the path given to --from.`,
          );
        }
        const backups = await listBackups(destination, keyring);
        const unreadable = backups.filter((b) => !b.readable);
        if (unreadable.length) {
          const keys = [...new Set(unreadable.map((b) => b.keyId))].join(', ');
          out.info(
            `${unreadable.length} of ${backups.length} backups were made with a key not given (${keys}): their project, database and counts cannot be shown. Set ENCRYPTION_KEY, ENCRYPTION_OLD_KEYS or --key-file to see them.`,
          );
        }
        const human = backups.length
          ? table(
              ['ID', 'CREATED (UTC)', 'PROJECT', 'DATABASE', 'DOCUMENTS', 'SIZE', 'KEY'],
              backups.map((b) => [
                b.id,
                b.createdAt.replace('T', ' ').replace(/\.\d+Z$/, ''),
                b.error ? 'DAMAGED manifest' : (b.project ?? '(key not held)'),
                b.database ?? '',
                b.documents === undefined
                  ? ''
                  : `${formatCount(b.documents)}${otherSourceCounts(b.counts)}`,
                formatBytes(b.size),
                b.keyId || '?',
              ]),
            )
          : `No backups in ${destination.displayUrl}.`;
        out.result(backups, human);
        const damaged = backups.filter((b) => b.error);
        if (damaged.length === 0) return 0;
        // Listed, but not silently: the damaged ones are named, with what to do.
        for (const b of damaged) io.stderr.write(`DAMAGED: ${b.error!.message}\n`);
        io.stderr.write(
          `${damaged.length} of ${backups.length} backups have a damaged manifest: ${damaged.map((b) => b.id).join(', ')}. ` +
            `The other backups are listed above. \`firebackup verify <id> --from ${flags.from}\` checks one; do not delete or prune anything there before you know which copies are intact.\n`,
        );
        return 1;
      }),
    );
  });
}
