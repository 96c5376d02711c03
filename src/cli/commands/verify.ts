import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import { verifyBackup } from '../../engine/operations/verify.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addScopeFlags, resolveAndAnnounce, type ScopeFlags } from '../backup-ref.js';
import { addBackupLocationFlags } from '../destination-flags.js';
import { formatBytes, formatCount } from '../output.js';

interface VerifyFlags extends CommonFlags, ScopeFlags {
  digestOnly?: boolean;
}

/** Exit code of a verification that ran and found the backup damaged. */
export const EXIT_VERIFY_FAILED = 3;

export function registerVerify(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('verify <backup>')
    .description(
      'authenticate every byte and parse every record of a backup (id, "latest", or archive file)',
    )
    .option(
      '--digest-only',
      'only check that the stored archive is byte for byte the one written (size and SHA-256 against its manifest); faster: decrypts only the small manifest, so the key is still needed',
    );
  addBackupLocationFlags(command);
  addScopeFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: VerifyFlags) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        const keyring = await keyringFor(io, flags);
        if (flags.digestOnly && !keyring.ids.length) {
          // The digest to compare with is in the manifest, which is encrypted and
          // authenticated: without the key it can be neither read nor trusted.
          throw new AppError(
            'KEY_NOT_FOUND',
            "verify --digest-only reads the archive's SHA-256 from its manifest, which is encrypted: it needs the key too (it decrypts only the manifest, not the archive). Set ENCRYPTION_KEY or pass --key-file <file>.",
          );
        }
        const { backup, origin } = await resolveAndAnnounce(ref, flags, keyring, out);
        const report = {
          ...(await verifyBackup(backup, keyring, ctx, {
            depth: flags.digestOnly ? 'digest' : 'full',
          })),
          of: origin,
        };
        out.endProgress();
        if (!report.ok) {
          io.stderr.write(`FAILED: ${report.error?.message ?? 'unknown error'}\n`);
          out.result(report, `Backup ${report.backup} FAILED verification.`);
          return EXIT_VERIFY_FAILED;
        }
        out.result(
          report,
          report.depth === 'digest'
            ? `OK: ${report.backup}: the stored archive (${formatBytes(report.archiveBytes)}) matches its manifest's size and SHA-256.`
            : `OK: ${report.backup}: ${formatCount(report.documents)} documents in ${report.segments} segment${report.segments === 1 ? '' : 's'} (${formatBytes(report.archiveBytes)}) authenticated${report.manifestChecked ? ', archive digest matches its manifest' : ''}.`,
        );
        return 0;
      }),
    );
  });
}
