import path from 'node:path';
import { parseSources, type SourceName } from '../../engine/operations/source-records.js';
import { normalisePaths } from '../../engine/sources/rtdb/records.js';
import { Option, type Command } from 'commander';
import { nextOccurrence } from '../../engine/scheduler/cron.js';
import { createRuntime, openCatalog, type Runtime } from '../../engine/jobs/runtime.js';
import { scheduledRotation } from './keys-rotate.js';
import { WebhookNotifier } from '../../engine/notify/webhook.js';
import { openDestination, schemeOf } from '../../engine/storage/index.js';
import { backupScopeProblems } from '../../shared/backup-scope.js';
import { AppError, exitCodeFor } from '../../shared/errors.js';
import type { Run } from '../../shared/jobs.js';
import type {
  RetentionPolicy,
  Schedule,
  ScheduleKind,
  VerifyAfterBackup,
} from '../../shared/schedules.js';
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
  addDestinationFlags,
  destinationOptionsFromFlags,
  secretOptionNames,
} from '../destination-flags.js';
import type { Catalog } from '../../engine/catalog/catalog.js';
import type { DestinationRecord } from '../../engine/catalog/projects.js';
import { keepSchedulesInDestination as keepInDestination } from '../../engine/operations/keep-schedules.js';
import { destinationOpener } from '../../engine/secrets/destination-secrets.js';
import { FileSecretStore } from '../../engine/secrets/secret-store.js';
import { appDataDir } from '../../engine/paths.js';
import type { Output } from '../output.js';
import { formatBytes, formatCount, formatDuration } from '../output.js';
import { table } from '../table.js';

/** `firebackup schedule add|list|remove|run-now`. Helpers here are shared with prune/daemon/history. */

export interface RetentionFlags {
  keepLast?: number;
  keepDaily?: number;
  keepWeekly?: number;
  keepMonthly?: number;
}

function count(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) {
      throw new AppError(
        'INVALID_ARGUMENT',
        `${flag} takes a whole number of backups (got "${value}").`,
      );
    }
    return n;
  };
}

export function addRetentionFlags(command: Command): Command {
  return command
    .option('--keep-last <n>', 'keep the n most recent backups', count('--keep-last'))
    .option(
      '--keep-daily <n>',
      'keep the newest backup of each of the last n days with backups',
      count('--keep-daily'),
    )
    .option(
      '--keep-weekly <n>',
      'keep the newest backup of each of the last n weeks with backups',
      count('--keep-weekly'),
    )
    .option(
      '--keep-monthly <n>',
      'keep the newest backup of each of the last n months with backups',
      count('--keep-monthly'),
    );
}

export function retentionOf(flags: RetentionFlags): RetentionPolicy {
  const policy: RetentionPolicy = {};
  if (flags.keepLast !== undefined) policy.keepLast = flags.keepLast;
  if (flags.keepDaily !== undefined) policy.keepDaily = flags.keepDaily;
  if (flags.keepWeekly !== undefined) policy.keepWeekly = flags.keepWeekly;
  if (flags.keepMonthly !== undefined) policy.keepMonthly = flags.keepMonthly;
  return policy;
}

export function describeRetention(p: RetentionPolicy): string {
  const parts = [
    p.keepLast !== undefined ? `last ${p.keepLast}` : '',
    p.keepDaily !== undefined ? `${p.keepDaily} daily` : '',
    p.keepWeekly !== undefined ? `${p.keepWeekly} weekly` : '',
    p.keepMonthly !== undefined ? `${p.keepMonthly} monthly` : '',
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'keep all';
}

/** Destinations are stored by absolute location, so the same folder is one destination. */
export function destinationUrl(location: string): string {
  return schemeOf(location) ? location : path.resolve(location);
}

function parseVerify(value: string): VerifyAfterBackup {
  if (value === 'full' || value === 'none') return { mode: value };
  const m = /^sample:(0?\.\d+|1(\.0*)?)$/.exec(value);
  if (m) return { mode: 'sample', fraction: Number(m[1]) };
  throw new AppError(
    'INVALID_ARGUMENT',
    `--verify takes "full", "none" or "sample:<fraction>" such as "sample:0.1" (got "${value}").`,
  );
}

/** Opens the runtime with keys (for commands that run or read backups). */
export async function openRuntime(io: CliIO, flags: CommonFlags, out?: Output): Promise<Runtime> {
  const keyring = await keyringFor(io, flags);
  const notifier = WebhookNotifier.fromEnv(io.env);
  const rotation = scheduledRotation(io, flags);
  return createRuntime({
    env: io.env,
    keyring,
    ...(rotation.store
      ? { keyRotation: { store: rotation.store, intervalMs: rotation.intervalMs } }
      : {}),
    ...(notifier ? { notifier } : {}),
    ...(out ? { log: (m: string) => out.info(m) } : {}),
  });
}

/** The backups a run deleted (a prune, or a backup's retention), for logs and history. */
export function deletedBy(run: Run): string[] {
  const detail = run.detail as
    { deleted?: unknown; pruned?: { deleted?: unknown } } | null | undefined;
  const deleted = detail?.pruned?.deleted ?? detail?.deleted;
  return Array.isArray(deleted) ? deleted.map(String) : [];
}

export function runSummary(run: Run): string {
  const took =
    run.startedAt && run.finishedAt
      ? ` in ${formatDuration((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000)}`
      : '';
  const docs = run.counts?.['firestore.documents'];
  const what = [
    run.backupId ?? '',
    docs !== undefined ? `${formatCount(docs)} documents` : '',
    run.bytes !== null ? formatBytes(run.bytes) : '',
  ].filter(Boolean);
  const error = run.error ? `: ${run.error.message}` : '';
  const deleted = deletedBy(run);
  const pruned = deleted.length ? `; retention deleted ${deleted.join(', ')}` : '';
  return `${run.kind} ${run.status}${took}${what.length ? ` (${what.join(', ')})` : ''}${error}${pruned}`;
}

/** The destination's copy of the schedules (see keepSchedulesInDestination), or a warning. */
async function keepSchedulesInDestination(
  io: CliIO,
  flags: CommonFlags,
  catalog: Catalog,
  destination: DestinationRecord,
  out: Output,
): Promise<{ saved: boolean; problem?: string }> {
  let kept: Awaited<ReturnType<typeof keepInDestination>>;
  try {
    const keyring = await keyringFor(io, flags);
    // The CLI's own secrets file: a destination's saved secret, unless the environment's win.
    const secrets = new FileSecretStore(path.join(appDataDir(io.env), 'secrets.json'));
    kept = await keepInDestination(
      catalog,
      destination,
      keyring,
      destinationOpener(secrets, io.env),
    );
  } catch (error) {
    kept = { saved: false, problem: (error as Error).message };
  }
  if (kept.saved) return kept;
  const problem =
    kept.problem === 'no key given'
      ? 'no key given: use --key-file or ENCRYPTION_KEY'
      : kept.problem;
  out.info(
    `Warning: the schedules were not saved in ${destination.url} (${problem}). The catalog has them and runs them, but "firebackup catalog rebuild" can only bring back schedules saved there; repeat the command with the key (and the destination's credentials) to save them.`,
  );
  return { saved: false, problem };
}

interface AddFlags extends CommonFlags, SourceFlags, RetentionFlags {
  to: string;
  cron: string;
  tz: string;
  kind: ScheduleKind;
  collections?: string[];
  exclude?: string[];
  sources?: SourceName[];
  buckets?: string[];
  storagePrefix?: string;
  rtdbInstances?: string[];
  rtdbPaths?: string[];
  verify: VerifyAfterBackup;
  verifyBatch?: number;
  notifySuccess?: boolean;
  allowEmpty?: boolean;
  disabled?: boolean;
}

function registerAdd(schedule: Command, io: CliIO, done: (code: number) => void): void {
  const command = schedule
    .command('add <name>')
    .description(
      'add a schedule: back up (or verify) a project to a destination on a cron timetable',
    )
    .requiredOption('--to <destination>', 'a folder (or file://, s3://, gs:// URL)')
    .requiredOption(
      '--cron <expression>',
      'when, as cron: "minute hour day month weekday", e.g. "0 2 * * *"',
    )
    .option(
      '--tz <zone>',
      'IANA time zone of the cron times and retention days',
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    )
    .option(
      '--kind <kind>',
      '"backup"; "verify" to re-check old backups; "check" to check the whole destination (--verify sets its read-data share)',
      'backup',
    )
    .option('--collections <ids>', 'only these collections', listFlag)
    .option('--exclude <ids>', 'leave out these collections', listFlag)
    .option(
      '--sources <list>',
      'what to back up: firestore,auth,rtdb,storage (default: firestore)',
      parseSources,
    )
    .option('--buckets <names>', 'Storage buckets (default: the project default bucket)', listFlag)
    .option('--storage-prefix <prefix>', 'only Storage objects whose name starts with this')
    .option(
      '--rtdb-instances <names>',
      'Realtime Database instances (default: every instance of the project)',
      listFlag,
    )
    .option(
      '--rtdb-paths <paths>',
      'only these Realtime Database paths, like /users,/rooms (default: whole trees)',
      listFlag,
    )
    .addOption(
      // The default is an object: its help text says "full", not {"mode":"full"}.
      new Option('--verify <how>', 'after each backup: "full", "none" or "sample:<fraction>"')
        .argParser(parseVerify)
        .default({ mode: 'full' }, 'full'),
    )
    .option(
      '--verify-batch <n>',
      'verify schedules: backups re-checked per run (default: 3)',
      count('--verify-batch'),
    )
    .option('--notify-success', 'also notify on success (failures and missed runs always notify)')
    .option(
      '--allow-empty',
      'an empty (0-document) backup is expected: do not fail the run, count it for retention',
    )
    .option('--disabled', 'add it switched off');
  addSourceFlags(command);
  addDestinationFlags(command);
  addRetentionFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (name: string, flags: AddFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const source = sourceOptions(io, flags, flags.project);
        const scope = {
          ...(flags.collections ? { collections: flags.collections } : {}),
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
          ...(flags.sources ? { sources: flags.sources } : {}),
          ...(flags.buckets ? { buckets: flags.buckets } : {}),
          ...(flags.storagePrefix ? { storagePrefix: flags.storagePrefix } : {}),
          ...(flags.rtdbInstances ? { rtdbInstances: flags.rtdbInstances } : {}),
          // Normalised now, so a bad path is refused here rather than at every run.
          ...(flags.rtdbPaths ? { rtdbPaths: normalisePaths(flags.rtdbPaths) } : {}),
        };
        // A filter for a source left out would be ignored at every run: refuse it now.
        const problems = backupScopeProblems(scope);
        if (problems.length > 0) throw new AppError('INVALID_ARGUMENT', problems.join(' '));
        const catalog = openCatalog(io.env);
        try {
          const database = source.databaseId ?? '(default)';
          const project = catalog.projects.upsert({
            name: database === '(default)' ? source.projectId : `${source.projectId}/${database}`,
            firebaseProjectId: source.projectId,
            databaseId: database,
            credentialsPath: source.credentialsFile ? path.resolve(source.credentialsFile) : null,
            emulatorHost: source.emulatorHost ?? null,
          });
          const url = destinationUrl(flags.to);
          const options = await destinationOptionsFromFlags(flags.to, flags);
          const secrets = secretOptionNames(flags.to).filter((name) => name in options);
          if (secrets.length) {
            throw new AppError(
              'INVALID_ARGUMENT',
              `The catalog never stores secrets (${secrets.join(', ')}): give them to the daemon through its environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS) instead.`,
            );
          }
          // Validated now (with the kind's schema), not at 2 a.m. when the schedule fires.
          await openDestination(url, options);
          const destination = catalog.destinations.upsert({ name: url, url, options });
          const s = catalog.schedules.add({
            name,
            kind: flags.kind,
            projectId: project.id,
            destinationId: destination.id,
            cron: flags.cron,
            timeZone: flags.tz,
            scope,
            retention: retentionOf(flags),
            verifyAfter: flags.verify,
            ...(flags.verifyBatch ? { verifyBatch: flags.verifyBatch } : {}),
            notifyOnSuccess: Boolean(flags.notifySuccess),
            allowEmpty: Boolean(flags.allowEmpty),
            enabled: !flags.disabled,
          });
          const kept = await keepSchedulesInDestination(io, flags, catalog, destination, out);
          const next = nextOccurrence(s.cron, s.timeZone, new Date());
          out.result(
            { schedule: s, nextRun: next.toISOString(), savedInDestination: kept.saved },
            `Added schedule "${s.name}": ${s.kind} ${project.name} to ${url}, "${s.cron}" (${s.timeZone}), retention: ${describeRetention(s.retention)}.\nNext run: ${next.toISOString()}. Runs happen while "firebackup daemon" (or the desktop app) is running.`,
          );
        } finally {
          catalog.close();
        }
      }),
    );
  });
}

function registerList(schedule: Command, io: CliIO, done: (code: number) => void): void {
  addCommonFlags(
    schedule.command('list').description('list schedules with their next and last runs'),
  ).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const catalog = openCatalog(io.env);
        try {
          const rows = catalog.schedules.list().map((s: Schedule) => {
            const last = catalog.runs.list({ scheduleId: s.id, limit: 1 })[0];
            return {
              ...s,
              project: catalog.projects.get(s.projectId).name,
              destination: catalog.destinations.get(s.destinationId).url,
              nextRun: s.enabled
                ? nextOccurrence(s.cron, s.timeZone, new Date()).toISOString()
                : null,
              lastRun: last ?? null,
            };
          });
          out.result(
            rows,
            rows.length
              ? table(
                  [
                    'NAME',
                    'KIND',
                    'PROJECT',
                    'DESTINATION',
                    'CRON',
                    'TZ',
                    'NEXT RUN',
                    'RETENTION',
                    'LAST RUN',
                  ],
                  rows.map((r) => [
                    r.name,
                    r.kind,
                    r.project,
                    r.destination,
                    r.cron,
                    r.timeZone,
                    r.nextRun ?? 'disabled',
                    describeRetention(r.retention),
                    r.lastRun
                      ? `${r.lastRun.status} ${r.lastRun.finishedAt ?? r.lastRun.scheduledFor ?? ''}`
                      : '-',
                  ]),
                )
              : 'No schedules. Add one with "firebackup schedule add <name> --project <id> --to <destination> --cron \\"0 2 * * *\\"".',
          );
        } finally {
          catalog.close();
        }
      }),
    );
  });
}

function registerRemove(schedule: Command, io: CliIO, done: (code: number) => void): void {
  const command = schedule
    .command('remove <name>')
    .description('remove a schedule (its backups and history stay)');
  addKeyFlags(command);
  addCommonFlags(command).action(async (name: string, flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const catalog = openCatalog(io.env);
        try {
          const s = catalog.schedules.remove(name);
          const destination = catalog.destinations.get(s.destinationId);
          const kept = await keepSchedulesInDestination(io, flags, catalog, destination, out);
          out.result(
            { removed: s, savedInDestination: kept.saved },
            `Removed schedule "${s.name}". Its backups and run history are kept.`,
          );
        } finally {
          catalog.close();
        }
      }),
    );
  });
}

function registerRunNow(schedule: Command, io: CliIO, done: (code: number) => void): void {
  const command = schedule
    .command('run-now <name>')
    .description('run a schedule once, now, in the foreground');
  addKeyFlags(command);
  addCommonFlags(command).action(async (name: string, flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const runtime = await openRuntime(io, flags, out);
        try {
          const job = runtime.scheduler.runNow(name);
          const stop = runtime.jobs.subscribe((e) => {
            if (e.type === 'progress' && e.jobId === job.id) out.progress(e.progress);
          });
          const onAbort = (): void => job.cancel('Cancelled (interrupted).');
          signal.addEventListener('abort', onAbort, { once: true });
          const run = await job.done;
          stop();
          signal.removeEventListener('abort', onAbort);
          out.endProgress();
          out.result(run, runSummary(run));
          return run.status === 'succeeded' ? 0 : exitCodeFor(run.error);
        } finally {
          runtime.close();
        }
      }),
    );
  });
}

export function registerSchedule(program: Command, io: CliIO, done: (code: number) => void): void {
  const schedule = program.command('schedule').description('scheduled backups and verifications');
  registerAdd(schedule, io, done);
  registerList(schedule, io, done);
  registerRemove(schedule, io, done);
  registerRunNow(schedule, io, done);
}
