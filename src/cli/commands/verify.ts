import type { Command } from 'commander';
import { resolveBackup } from '../../engine/operations/resolve-backup.js';
import { verifyBackup } from '../../engine/operations/verify.js';
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

interface VerifyFlags extends CommonFlags {
  from?: string;
}

/** Exit code of a verification that ran and found the backup damaged. */
export const EXIT_VERIFY_FAILED = 3;

export function registerVerify(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('verify <backup>')
    .description(
      'authenticate every byte and parse every record of a backup (id, "latest", or archive file)',
    )
    .option('--from <destination>', 'where the backup is (not needed for an archive file path)');
  addDestinationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: VerifyFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const keyring = await keyringFor(io, flags);
        const backup = await resolveBackup(
          ref,
          flags.from ? await openDestinationFromFlags(flags.from, flags) : undefined,
        );
        const report = await verifyBackup(backup, keyring, {
          signal,
          onProgress: (p) => out.progress(p),
        });
        out.endProgress();
        if (!report.ok) {
          io.stderr.write(`FAILED: ${report.error?.message ?? 'unknown error'}\n`);
          out.result(report, `Backup ${report.backup} FAILED verification.`);
          return EXIT_VERIFY_FAILED;
        }
        out.result(
          report,
          `OK: ${report.backup}: ${formatCount(report.documents)} documents in ${report.segments} segments (${formatBytes(report.archiveBytes)}) authenticated${report.manifestChecked ? ', archive digest matches its manifest' : ''}.`,
        );
        return 0;
      }),
    );
  });
}
