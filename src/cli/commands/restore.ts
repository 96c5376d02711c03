import type { Command } from 'commander';
import { AppError } from '../../shared/errors.js';
import {
  restoreSourcesToProject,
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
import { formatBytes, formatCount } from '../output.js';
import { addOtherSourceFlags, otherSourceOptions, type OtherSourceFlags } from '../source-flags.js';

interface RestoreFlags extends CommonFlags, SourceFlags, OtherSourceFlags {
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
  addOtherSourceFlags(command, 'restore');
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
          ...(flags.sources ? { sources: flags.sources } : {}),
        };
        if (flags.toDir) {
          const report = await restoreToDir({ ...common, directory: flags.toDir }, ctx);
          const { auth, storage } = report.sources;
          const more = [
            auth ? `, ${formatCount(auth.users)} users` : '',
            storage
              ? `, ${formatCount(storage.objects)} files (${formatBytes(storage.bytes)})`
              : '',
          ].join('');
          out.result(
            { ok: true, ...report },
            `Restored ${formatCount(report.documents)} documents${more} from ${report.backup} into ${report.directory} (${report.files.length} files).`,
          );
          return 0;
        }
        const target = sourceOptions(io, flags, flags.toProject);
        // Into a project, Firestore unless others are named: users and files are opt-in.
        const sources = flags.sources ?? ['firestore'];
        const others = sources.filter((s) => s !== 'firestore');
        const dryRun = Boolean(flags.dryRun);
        const mode = flags.mode as RestoreMode;
        let failed = 0;
        let result: Record<string, unknown> = {};
        const human: string[] = [];
        if (sources.includes('firestore')) {
          out.info(
            `Restoring ${backup.label} into ${target.projectId}/${target.databaseId}${dryRun ? ' (dry run: nothing is written)' : ''}`,
          );
          const report = await restoreToFirestore({ ...common, target, mode, dryRun }, ctx);
          failed += report.failedCount;
          result = { ...report };
          human.push(describeRestore(report, dryRun));
        }
        if (others.length > 0) {
          const targets = {
            ...otherSourceOptions(io, flags, target),
            sources: others,
            mode,
            dryRun,
          };
          const more = await restoreSourcesToProject({ ...common, targets }, ctx);
          failed += (more.auth?.failedCount ?? 0) + (more.storage?.failedCount ?? 0);
          result = { ...result, backup: more.backup, auth: more.auth, storage: more.storage };
          human.push(describeOthers(more, dryRun));
        }
        out.result({ ok: failed === 0, ...result }, human.join('\n'));
        return failed > 0 ? 1 : 0;
      }),
    );
  });
}

function describeOthers(
  report: Awaited<ReturnType<typeof restoreSourcesToProject>>,
  dryRun: boolean,
): string {
  const lines: string[] = [];
  const describe = (
    what: string,
    r: {
      created: number;
      overwritten: number;
      skipped: number;
      failedCount: number;
      merged?: number;
      planned?: { create: number; overwrite: number; skip: number };
      failed: Array<{ message: string }>;
    },
  ): void => {
    if (dryRun && r.planned) {
      lines.push(
        `Dry run, ${what}: would create ${formatCount(r.planned.create)}, overwrite ${formatCount(r.planned.overwrite)}, skip ${formatCount(r.planned.skip)}. Nothing was written.`,
      );
      return;
    }
    lines.push(
      `Restored ${what}: created ${formatCount(r.created)}, overwritten ${formatCount(r.overwritten)}${r.merged === undefined ? '' : `, merged ${formatCount(r.merged)}`}, skipped (already there) ${formatCount(r.skipped)}, failed ${formatCount(r.failedCount)}.`,
    );
    for (const f of r.failed) lines.push(`  failed: ${f.message}`);
    if (r.failedCount > r.failed.length) {
      lines.push(`  … and ${formatCount(r.failedCount - r.failed.length)} more`);
    }
  };
  if (report.auth) describe('Auth users', report.auth);
  if (report.storage) describe('Storage files', report.storage);
  if (lines.length === 0) lines.push(`The backup holds none of the sources asked for.`);
  return lines.join('\n');
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
