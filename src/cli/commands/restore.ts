import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import {
  restoreToDir,
  restoreToFirestore,
  type RestoreMode,
} from '../../engine/operations/restore.js';
import {
  addCommonFlags,
  addKeyFlags,
  addSourceFlags,
  keyringFor,
  listFlag,
  runCommand,
  sourceOptions,
  type CliIO,
  type CommonFlags,
  type SourceFlags,
} from '../context.js';
import { addBackupLocationFlags, resolveBackupFromFlags } from '../destination-flags.js';
import { formatCount } from '../output.js';

interface RestoreFlags extends CommonFlags, SourceFlags {
  from?: string;
  toProject?: string;
  toDir?: string;
  collections?: string[];
  paths?: string[];
  mode: string;
  dryRun?: boolean;
}

const MODES: RestoreMode[] = ['create', 'overwrite', 'merge'];

export function registerRestore(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('restore <backup>')
    .description(
      'restore a backup (id, "latest", or archive file) into Firestore or into plain files',
    )
    .option(
      '--to-dir <folder>',
      'write decrypted NDJSON files, one per root collection (no Firebase needed)',
    )
    .option('--collections <ids>', 'only these collections (root ids or path prefixes)', listFlag)
    .option(
      '--paths <paths>',
      'only these documents or collections (paths, comma-separated)',
      listFlag,
    )
    .option(
      '--mode <mode>',
      'create (skip existing), overwrite, or merge (update fields)',
      'create',
    )
    .option('--dry-run', 'show what would be created, overwritten and skipped; write nothing');
  addSourceFlags(command, '--to-project <id>');
  addBackupLocationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: RestoreFlags) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        if (!MODES.includes(flags.mode as RestoreMode)) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `--mode must be one of ${MODES.join(', ')} (got "${flags.mode}").`,
          );
        }
        if (Boolean(flags.toDir) === Boolean(flags.toProject)) {
          throw new AppError(
            'INVALID_ARGUMENT',
            'Restore where? Pass exactly one of --to-project <id> or --to-dir <folder>.',
          );
        }
        const keyring = await keyringFor(io, flags);
        const backup = await resolveBackupFromFlags(ref, flags);
        const common = {
          backup,
          keyring,
          collections: flags.collections ?? [],
          paths: flags.paths ?? [],
        };
        if (flags.toDir) {
          const report = await restoreToDir({ ...common, directory: flags.toDir }, ctx);
          for (const swept of report.sweptTemporaries) {
            out.info(`Removed ${swept}, left by an earlier restore that was killed.`);
          }
          out.result(
            { ok: true, ...report },
            `Restored ${formatCount(report.documents)} documents from ${report.backup} into ${report.directory} (${report.files.length} files).`,
          );
          return 0;
        }
        const target = sourceOptions(io, flags, flags.toProject);
        out.info(
          `Restoring ${backup.label} into ${target.projectId}/${target.databaseId}${flags.dryRun ? ' (dry run: nothing is written)' : ''}`,
        );
        const report = await restoreToFirestore(
          { ...common, target, mode: flags.mode as RestoreMode, dryRun: Boolean(flags.dryRun) },
          ctx,
        );
        const failed = report.failedCount;
        out.result({ ok: failed === 0, ...report }, describeRestore(report, Boolean(flags.dryRun)));
        return failed > 0 ? 1 : 0;
      }),
    );
  });
}

function describeRestore(
  report: Awaited<ReturnType<typeof restoreToFirestore>>,
  dryRun: boolean,
): string {
  if (dryRun && report.planned) {
    const p = report.planned;
    return `Dry run for ${report.target}: would create ${formatCount(p.create)}, overwrite ${formatCount(p.overwrite)}, skip ${formatCount(p.skip)} documents. Nothing was written.`;
  }
  const lines = [
    `Restored into ${report.target}: created ${formatCount(report.created)}, overwritten ${formatCount(report.overwritten)}, merged ${formatCount(report.merged)}, skipped (already there) ${formatCount(report.skipped)}, failed ${formatCount(report.failedCount)}.`,
  ];
  for (const f of report.failed) lines.push(`  failed ${f.path}: ${f.message}`);
  if (report.failedCount > report.failed.length) {
    lines.push(`  … and ${formatCount(report.failedCount - report.failed.length)} more`);
  }
  return lines.join('\n');
}
