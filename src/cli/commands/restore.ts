import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import { AppError, exitCodeFor, toErrorData } from '../../shared/errors.js';
import {
  restoreSourcesToProject,
  restoreToDir,
  restoreToFirestore,
  type RestoreMode,
} from '../../engine/operations/restore.js';
import {
  isRestoreIncomplete,
  MAX_LISTED_DELETIONS,
  type RestoreReport,
} from '../../engine/sources/firestore/restore.js';
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
import {
  RESTORE_SCOPE_FLAGS,
  addScopeFlags,
  resolveAndAnnounce,
  type ScopeFlags,
} from '../backup-ref.js';
import { addBackupLocationFlags } from '../destination-flags.js';
import type { SalvageSummary } from '../../engine/operations/restore-salvage.js';
import { formatBytes, formatCount, type Output } from '../output.js';
import {
  salvagedSourceLines,
  addOtherSourceFlags,
  otherSourceOptions,
  type OtherSourceFlags,
} from '../source-flags.js';

interface RestoreFlags
  extends CommonFlags, Omit<SourceFlags, 'project'>, ScopeFlags, OtherSourceFlags {
  toProject?: string;
  toDir?: string;
  collections?: string[];
  paths?: string[];
  mode: string;
  dryRun?: boolean;
  yes?: boolean;
  salvage?: boolean;
}

const MODES: RestoreMode[] = ['create', 'overwrite', 'merge', 'mirror'];
/** Paths a mirror's dry run prints (the JSON has up to MAX_LISTED_DELETIONS). */
const PRINTED_DELETIONS = 20;

export function registerRestore(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('restore <backup>')
    .description(
      'restore a backup (id, "latest", or archive file) into Firestore or into plain files',
    )
    .option(
      '--to-dir <folder>',
      'write the backup as plain files (no Firebase needed): NDJSON per root collection, and auth/, storage/, rtdb/ for the other sources it holds',
    )
    .option('--collections <ids>', 'only these collections (root ids or path prefixes)', listFlag)
    .option(
      '--paths <paths>',
      'only these documents or collections (paths, comma-separated)',
      listFlag,
    )
    .option(
      '--mode <mode>',
      'create (skip existing), overwrite, merge (deep: keep fields only the target has), or mirror (overwrite, then delete what the backup lacks, within the selection)',
      'create',
    )
    .option('--dry-run', 'show what would be created, overwritten, merged, skipped and deleted')
    .option('--yes', 'mirror: really delete the documents the backup does not have')
    .option(
      '--salvage',
      'damaged archive: restore every document from segments that authenticate, report what was skipped, exit 1 (partial). Into Firestore this is a single pass: no all-or-nothing guarantee',
    );
  addSourceFlags(command, '--to-project <id>');
  addOtherSourceFlags(command, 'restore');
  addBackupLocationFlags(command);
  addScopeFlags(command, RESTORE_SCOPE_FLAGS);
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: RestoreFlags, self: Command) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        if (!MODES.includes(flags.mode as RestoreMode)) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `--mode must be one of ${MODES.join(', ')} (got "${flags.mode}").`,
          );
        }
        const mode = flags.mode as RestoreMode;
        if (Boolean(flags.toDir) === Boolean(flags.toProject)) {
          throw new AppError(
            'INVALID_ARGUMENT',
            'Restore where? Pass exactly one of --to-project <id> or --to-dir <folder>.',
          );
        }
        const keyring = await keyringFor(io, flags);
        const { backup, origin } = await resolveAndAnnounce(
          ref,
          flags,
          keyring,
          out,
          RESTORE_SCOPE_FLAGS,
        );
        const common = {
          backup,
          keyring,
          collections: flags.collections ?? [],
          paths: flags.paths ?? [],
          ...(flags.sources ? { sources: flags.sources } : {}),
          salvage: Boolean(flags.salvage),
        };
        if (flags.toDir) {
          const report = await restoreToDir({ ...common, directory: flags.toDir }, ctx);
          for (const swept of report.sweptTemporaries) {
            out.info(`Removed ${swept}, left by an earlier restore that was killed.`);
          }
          const partial = report.salvage && !report.salvage.complete;
          if (report.salvage) reportSalvage(io, report.salvage);
          const { auth, rtdb, storage } = report.sources;
          const more = [
            auth ? `, ${formatCount(auth.users)} users` : '',
            rtdb ? `, ${formatCount(rtdb.instances.length)} RTDB instance(s)` : '',
            storage
              ? `, ${formatCount(storage.objects)} files (${formatBytes(storage.bytes)})`
              : '',
          ].join('');
          out.result(
            { ok: !partial, ...report, of: origin },
            `Restored ${formatCount(report.documents)} documents${more} from ${report.backup} into ${report.directory} (${report.files.length} files)${partial ? ': a PARTIAL restore' : ''}.`,
          );
          return partial ? 1 : 0;
        }
        const target = sourceOptions(io, flags, flags.toProject);
        const dryRun = Boolean(flags.dryRun);
        // Into a project, Firestore unless others are named: users and files are opt-in.
        const sources = flags.sources ?? ['firestore'];
        const others = sources.filter((s) => s !== 'firestore');
        if (mode === 'mirror' && others.length > 0) {
          throw new AppError(
            'INVALID_ARGUMENT',
            `--mode mirror is for Firestore documents only; restore ${others.join(' and ')} with --mode create, overwrite or merge.`,
          );
        }
        let failed = 0;
        let result: Record<string, unknown> = { of: origin };
        const human: string[] = [];
        if (sources.includes('firestore')) {
          if (mode === 'mirror' && !dryRun && !flags.yes) await confirmMirror(io, target.projectId);
          out.info(
            `Restoring ${backup.label} into ${target.projectId}/${target.databaseId} (mode ${mode})${dryRun ? ' (dry run: nothing is written)' : ''}`,
          );
          try {
            const report = await restoreToFirestore({ ...common, target, mode, dryRun }, ctx);
            const partial = report.salvage && !report.salvage.complete;
            if (report.salvage) reportSalvage(io, report.salvage);
            // A partial (salvaged) restore counts as a failure: the exit code says so.
            failed += report.failedCount + (partial ? 1 : 0);
            result = { ...result, ...report };
            human.push(
              describeRestore(report, dryRun) + (partial ? '\nThis was a PARTIAL restore.' : ''),
            );
          } catch (error) {
            // A restore that wrote nothing needs no account of what it left.
            if (!isRestoreIncomplete(error) || dryRun || touched(error.report) === 0) throw error;
            // Argv as typed, with "latest" pinned to the backup it meant.
            // (commander keeps the argv it parsed on the program as `rawArgs`, untyped)
            const raw = (self.parent as { rawArgs?: string[] } | null)?.rawArgs ?? [];
            const argv = raw.slice(2);
            const at = argv.indexOf(ref, argv.indexOf('restore') + 1);
            if (ref === 'latest' && backup.id && at >= 0) argv[at] = backup.id;
            reportIncomplete(io, out, error, {
              target: `${target.projectId}/${target.databaseId}`,
              mode,
              command: ['firebackup', ...argv].map(shellQuote).join(' '),
            });
            return exitCodeFor(error);
          }
        }
        if (others.length > 0) {
          const targets = {
            ...otherSourceOptions(io, flags, target),
            sources: others,
            mode: mode as Exclude<RestoreMode, 'mirror'>,
            dryRun,
          };
          const more = await restoreSourcesToProject({ ...common, targets }, ctx);
          if (more.salvage) {
            // Firestore's restore reported the damage already; add what these sources lost.
            if (sources.includes('firestore')) {
              const lines = salvagedSourceLines(more.salvage.sources);
              if (lines.length) io.stderr.write(`${lines.join('\n')}\n`);
            } else reportSalvage(io, more.salvage);
            if (!more.salvage.complete) failed++;
            result = { ...result, salvage: more.salvage };
          }
          for (const from of more.auth?.unusedTenantMappings ?? []) {
            out.info(`Warning: --tenant-map names ${from}, which the backup holds no users of.`);
          }
          failed +=
            (more.auth?.failedCount ?? 0) +
            (more.rtdb?.failedCount ?? 0) +
            (more.storage?.failedCount ?? 0);
          result = {
            ...result,
            backup: more.backup,
            auth: more.auth,
            rtdb: more.rtdb,
            storage: more.storage,
          };
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
  if (report.rtdb) {
    describe('Realtime Database paths', report.rtdb);
    for (const p of report.rtdb.skippedPaths) lines.push(`  skipped (exists): ${p}`);
  }
  if (report.storage) describe('Storage files', report.storage);
  if (lines.length === 0) lines.push(`The backup holds none of the sources asked for.`);
  return lines.join('\n');
}

/** What --salvage skipped, on stderr (the JSON result carries it as `salvage`). */
function reportSalvage(io: CliIO, s: SalvageSummary): void {
  if (s.complete) {
    io.stderr.write('Salvage: the archive is intact; nothing was skipped.\n');
    return;
  }
  const lines = [
    'Partial restore (--salvage): the archive is damaged; what could be read was restored.',
  ];
  for (const seg of s.skippedSegments) {
    lines.push(`  skipped segment ${seg.index} (bytes ${seg.start}–${seg.end}): ${seg.reason}`);
  }
  if (s.stoppedEarly) lines.push(`  reading stopped early: ${s.stoppedEarly}`);
  if (s.headerLost) lines.push('  the backup header was lost: its backup id could not be checked');
  lines.push(
    `  ${formatCount(s.droppedRecords)} records cut by a gap were dropped; ${formatCount(s.resyncBytes)} bytes were skipped finding the next record`,
  );
  lines.push(
    s.documentsExpected === undefined
      ? `  ${formatCount(s.documentsRecovered)} documents recovered; how many the backup held is unknown (its trailer and manifest are unreadable)`
      : `  ${formatCount(s.documentsRecovered)} of ${formatCount(s.documentsExpected)} documents recovered; ${formatCount(s.documentsLost ?? 0)} lost or could not be located`,
  );
  lines.push(...salvagedSourceLines(s.sources));
  lines.push(
    `  trailer check: ${s.trailerCheck}; archive size and SHA-256 against the manifest: ${s.digestCheck}`,
  );
  io.stderr.write(`${lines.join('\n')}\n`);
}

/** Mirror deletes documents: --yes, or the project id typed at a terminal. */
async function confirmMirror(io: CliIO, projectId: string): Promise<void> {
  const refuse = (why: string): never => {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${why} Mirror deletes the documents of ${projectId} (within the selection) that the backup does not have. See them with --dry-run, then run again with --yes.`,
    );
  };
  if (!process.stdin.isTTY) refuse('Not confirmed.');
  const rl = createInterface({ input: process.stdin, output: io.stderr });
  try {
    const answer = await rl.question(
      `Mirror deletes documents of ${projectId} that the backup does not have. Type the project id to go on: `,
    );
    if (answer.trim() !== projectId)
      refuse(`"${answer.trim()}" is not ${projectId}; nothing was done.`);
  } finally {
    rl.close();
  }
}

const SAFE_ARG = /^[A-Za-z0-9_@%+=:,./-]+$/;

function shellQuote(arg: string): string {
  return SAFE_ARG.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** What re-running the same command does to a target a restore in `mode` left part-way. */
const RERUN: Record<RestoreMode, string> = {
  create: 'it writes only the documents still missing and skips those already written',
  overwrite:
    'it writes every selected document again (those already written are replaced by the same content)',
  merge: 'it merges every selected document again (merging the same content twice changes nothing)',
  mirror:
    'it writes every selected document again, then deletes the documents the backup does not have',
};

/** Documents a restore changed or looked at in the target. */
function touched(r: RestoreReport): number {
  return r.created + r.overwritten + r.merged + r.skipped + r.deleted + r.failedCount;
}

function counts(r: RestoreReport): string {
  return `created ${formatCount(r.created)}, overwritten ${formatCount(r.overwritten)}, merged ${formatCount(r.merged)}, skipped (already there) ${formatCount(r.skipped)}, deleted ${formatCount(r.deleted)}, failed ${formatCount(r.failedCount)}`;
}

/** A restore that stopped part-way: what the target holds now, and the command that finishes it. */
function reportIncomplete(
  io: CliIO,
  out: Output,
  error: Error & { report: RestoreReport },
  how: { target: string; mode: RestoreMode; command: string },
): void {
  out.endProgress();
  const r = error.report;
  const written = r.created + r.overwritten + r.merged;
  const finish = {
    command: how.command,
    effect: `Re-running the same command finishes the job: ${RERUN[how.mode]}.`,
  };
  io.stderr.write(
    [
      `Error: ${error.message}`,
      `The restore stopped part-way: ${formatCount(written)} documents were written into ${how.target} (${counts(r)}).`,
      ...(r.unconfirmed
        ? [
            `${formatCount(r.unconfirmed)} more documents were being written when it stopped: they may or may not be in the target.`,
          ]
        : []),
      `To finish, run: ${finish.command}`,
      finish.effect,
      '',
    ].join('\n'),
  );
  if (out.json) {
    const { report, ...rest } = {
      report: r,
      ok: false,
      complete: false,
      error: toErrorData(error),
    };
    io.stdout.write(`${JSON.stringify({ ...rest, ...report, written, finish }, null, 2)}\n`);
  }
}

function describeRestore(
  report: Awaited<ReturnType<typeof restoreToFirestore>>,
  dryRun: boolean,
): string {
  if (dryRun && report.planned) {
    const p = report.planned;
    const lines = [
      `Dry run for ${report.target}: would create ${formatCount(p.create)}, overwrite ${formatCount(p.overwrite)}, merge into ${formatCount(p.merge)}, skip ${formatCount(p.skip)}, delete ${formatCount(p.delete)} documents. Nothing was written.`,
    ];
    for (const path of p.deletePaths.slice(0, PRINTED_DELETIONS))
      lines.push(`  would delete ${path}`);
    const unlisted = p.delete - Math.min(p.deletePaths.length, PRINTED_DELETIONS);
    if (unlisted > 0) {
      lines.push(
        `  … and ${formatCount(unlisted)} more (--json lists the first ${MAX_LISTED_DELETIONS})`,
      );
    }
    return lines.join('\n');
  }
  const lines = [`Restored into ${report.target}: ${counts(report)}.`];
  for (const f of report.failed) lines.push(`  failed ${f.path}: ${f.message}`);
  if (report.failedCount > report.failed.length) {
    lines.push(`  … and ${formatCount(report.failedCount - report.failed.length)} more`);
  }
  return lines.join('\n');
}
