import type { Command } from 'commander';
import { openCatalog } from '../../engine/jobs/runtime.js';
import { AppError } from '../../shared/errors.js';
import { JobKindSchema, RunStatusSchema, type Run } from '../../shared/jobs.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { formatBytes, formatCount, formatDuration } from '../output.js';
import { table } from '../table.js';
import { deletedBy } from './schedule.js';

interface HistoryFlags extends CommonFlags {
  schedule?: string;
  kind?: string;
  status?: string;
  limit: number;
}

function oneOf<T extends string>(
  flag: string,
  schema: { options: readonly T[] },
): (v: string) => T {
  return (v) => {
    if ((schema.options as readonly string[]).includes(v)) return v as T;
    throw new AppError(
      'INVALID_ARGUMENT',
      `${flag} must be one of ${schema.options.join(', ')} (got "${v}").`,
    );
  };
}

const when = (iso: string | null): string =>
  iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '';

/** `firebackup history`: the recorded runs, newest first — including missed ones. */
export function registerHistory(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('history')
    .description('show recorded runs (backups, verifies, prunes, missed runs), newest first')
    .option('--schedule <name>', 'only this schedule')
    .option(
      '--kind <kind>',
      `only ${JobKindSchema.options.join('|')}`,
      oneOf('--kind', JobKindSchema),
    )
    .option(
      '--status <status>',
      `only ${RunStatusSchema.options.join('|')}`,
      oneOf('--status', RunStatusSchema),
    )
    .option('--limit <n>', 'how many', (v) => Math.max(1, Number.parseInt(v, 10) || 20), 20);
  addCommonFlags(command).action(async (flags: HistoryFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const catalog = openCatalog(io.env);
        try {
          const scheduleId = flags.schedule ? catalog.schedules.get(flags.schedule).id : undefined;
          const runs = catalog.runs.list({
            ...(scheduleId ? { scheduleId } : {}),
            ...(flags.kind ? { kind: flags.kind as Run['kind'] } : {}),
            ...(flags.status ? { status: flags.status as Run['status'] } : {}),
            limit: flags.limit,
          });
          const names = new Map(catalog.schedules.list().map((s) => [s.id, s.name]));
          const human = runs.length
            ? table(
                [
                  'RUN',
                  'KIND',
                  'STATUS',
                  'TRIGGER',
                  'SCHEDULE',
                  'FOR / STARTED',
                  'TOOK',
                  'DOCS',
                  'SIZE',
                  'BACKUP / ERROR',
                ],
                runs.map((r) => [
                  r.id,
                  r.kind,
                  r.status,
                  r.trigger,
                  r.scheduleId ? (names.get(r.scheduleId) ?? '(removed)') : '',
                  when(r.status === 'missed' ? r.scheduledFor : (r.startedAt ?? r.scheduledFor)),
                  r.startedAt && r.finishedAt
                    ? formatDuration((Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000)
                    : '',
                  r.counts?.['firestore.documents'] !== undefined
                    ? formatCount(r.counts['firestore.documents'])
                    : '',
                  r.bytes !== null ? formatBytes(r.bytes) : '',
                  [
                    r.error ? r.error.message : (r.backupId ?? ''),
                    deletedBy(r).length ? `deleted ${deletedBy(r).join(', ')}` : '',
                  ]
                    .filter(Boolean)
                    .join('; '),
                ]),
              )
            : 'No runs recorded yet.';
          out.result(runs, human);
        } finally {
          catalog.close();
        }
      }),
    );
  });
}
