import type { Command } from 'commander';
import { pruneJob } from '../../engine/jobs/specs.js';
import { selectionOf, type RetentionScope } from '../../engine/scheduler/retention-scope.js';
import { parseSources, type SourceName } from '../../engine/operations/source-records.js';
import { AppError, exitCodeFor } from '../../shared/errors.js';
import { retentionHasRules } from '../../shared/schedules.js';
import {
  addCommonFlags,
  addKeyFlags,
  listFlag,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { table } from '../table.js';
import {
  addRetentionFlags,
  describeRetention,
  destinationUrl,
  openRuntime,
  retentionOf,
  type RetentionFlags,
} from './schedule.js';

interface PruneFlags extends CommonFlags, RetentionFlags {
  schedule?: string;
  project?: string;
  from?: string;
  database?: string;
  collections?: string[];
  exclude?: string[];
  sources?: SourceName[];
  buckets?: string[];
  storagePrefix?: string;
  rtdbInstances?: string[];
  rtdbPaths?: string[];
  allowEmpty?: boolean;
  tz?: string;
  dryRun?: boolean;
}

interface PruneDetail {
  scope: string;
  emptyIgnored: string[];
  dryRun: boolean;
  keep: { id: string; reasons: string[] }[];
  remove: string[];
  deleted: string[];
  failed: { id: string; error: { message: string } }[];
}

/**
 * `firebackup prune`: apply a retention policy now (a schedule's, or one given by flags)
 * to the backups of one scope only: a schedule's own backups, or the manual backups of
 * exactly the project, database and selection named by the flags.
 */
export function registerPrune(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('prune')
    .description(
      'delete backups a retention policy does not keep (never the newest good one); --dry-run first',
    )
    .option('--schedule <name>', "use this schedule's project, destination and policy")
    .option('--project <id>', 'the Firebase project whose manual backups to prune (with --from)')
    .option('--from <destination>', 'the destination to prune (with --project)')
    .option('--database <id>', 'the Firestore database of those backups (default "(default)")')
    .option(
      '--collections <ids>',
      'only manual backups made with exactly this --collections (default: full backups)',
      listFlag,
    )
    .option('--exclude <ids>', 'only manual backups made with exactly this --exclude', listFlag)
    .option(
      '--sources <list>',
      'only manual backups holding exactly these sources (default: firestore)',
      parseSources,
    )
    .option('--buckets <names>', 'only manual backups of exactly these Storage buckets', listFlag)
    .option('--storage-prefix <prefix>', 'only manual backups made with this --storage-prefix')
    .option(
      '--rtdb-instances <names>',
      'only manual backups of exactly these Realtime Database instances',
      listFlag,
    )
    .option(
      '--rtdb-paths <paths>',
      'only manual backups of exactly these Realtime Database paths (default: whole trees)',
      listFlag,
    )
    .option('--allow-empty', 'count empty (0-document) backups like any other')
    .option(
      '--tz <zone>',
      "time zone of the daily/weekly/monthly periods (default: the schedule's, else UTC)",
    )
    .option('--dry-run', 'show what would be deleted, delete nothing');
  addRetentionFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: PruneFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const runtime = await openRuntime(io, flags, out);
        try {
          const { catalog } = runtime;
          const schedule = flags.schedule ? catalog.schedules.get(flags.schedule) : undefined;
          const flagPolicy = retentionOf(flags);
          const policy = retentionHasRules(flagPolicy) ? flagPolicy : (schedule?.retention ?? {});
          if (!retentionHasRules(policy)) {
            throw new AppError(
              'INVALID_ARGUMENT',
              'No retention policy: give --keep-last/--keep-daily/--keep-weekly/--keep-monthly, or --schedule <name> with a policy.',
            );
          }
          let project = schedule ? catalog.projects.get(schedule.projectId) : undefined;
          let destination = schedule ? catalog.destinations.get(schedule.destinationId) : undefined;
          let scope: RetentionScope | undefined = schedule && {
            firebaseProjectId: project!.firebaseProjectId,
            databaseId: project!.databaseId,
            scheduleId: schedule.id,
            selection: selectionOf(schedule.scope),
          };
          const scopeFlags = (
            [
              'project',
              'from',
              'database',
              'collections',
              'exclude',
              'sources',
              'buckets',
              'storagePrefix',
              'rtdbInstances',
              'rtdbPaths',
            ] as const
          )
            .filter((f) => flags[f] !== undefined)
            .map((f) => `--${f.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
          if (schedule && scopeFlags.length) {
            throw new AppError(
              'INVALID_ARGUMENT',
              `--schedule prunes the backups that schedule made; ${scopeFlags.join(', ')} name manual backups instead. Give one or the other.`,
            );
          }
          if (!schedule) {
            if (!flags.project || !flags.from) {
              throw new AppError(
                'INVALID_ARGUMENT',
                'Say what to prune: --schedule <name>, or --project <id> with --from <destination>.',
              );
            }
            const url = destinationUrl(flags.from);
            destination = catalog.destinations.upsert({ name: url, url });
            project =
              catalog.projects.list().find((p) => p.firebaseProjectId === flags.project) ??
              catalog.projects.upsert({ name: flags.project, firebaseProjectId: flags.project });
            scope = {
              firebaseProjectId: flags.project,
              databaseId: flags.database ?? '(default)',
              scheduleId: null,
              selection: selectionOf(flags),
            };
          }
          const run = await runtime.jobs.start(
            pruneJob(runtime, {
              project: project!,
              destination: destination!,
              scope: scope!,
              allowEmpty: Boolean(flags.allowEmpty) || Boolean(schedule?.allowEmpty),
              policy,
              timeZone: flags.tz ?? schedule?.timeZone ?? 'UTC',
              dryRun: Boolean(flags.dryRun),
            }),
          ).done;
          const detail = run.detail as PruneDetail | null;
          if (!detail) {
            out.result(run, `Prune ${run.status}: ${run.error?.message ?? ''}`);
            return exitCodeFor(run.error);
          }
          const rows = [
            ...detail.keep.map((k) => [k.id, 'keep', k.reasons.join(', ')]),
            ...detail.remove.map((id) => [
              id,
              detail.dryRun
                ? 'would delete'
                : detail.deleted.includes(id)
                  ? 'deleted'
                  : 'NOT deleted',
              detail.failed.find((f) => f.id === id)?.error.message ?? '',
            ]),
          ];
          const heading = [
            `Policy: ${describeRetention(policy)} in ${destination!.url}${detail.dryRun ? ' (dry run: nothing deleted)' : ''}.`,
            `Considered only ${detail.scope}; other backups in the destination are never touched.`,
            ...(detail.emptyIgnored.length
              ? [
                  `Left alone (empty, not counted): ${detail.emptyIgnored.join(', ')}. Pass --allow-empty to count them.`,
                ]
              : []),
          ].join('\n');
          out.result(
            run,
            `${heading}\n${rows.length ? table(['BACKUP', 'ACTION', 'WHY'], rows) : 'No backups.'}`,
          );
          return run.status === 'succeeded' ? 0 : exitCodeFor(run.error);
        } finally {
          runtime.close();
        }
      }),
    );
  });
}
