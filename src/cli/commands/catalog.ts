import type { Command } from 'commander';
import { rebuildCatalog } from '../../engine/catalog/rebuild.js';
import { catalogFileFor } from '../../engine/catalog/location.js';
import {
  addCommonFlags,
  addKeyFlags,
  listFlag,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { table } from '../table.js';
import { destinationUrl, openRuntime } from './schedule.js';

interface RebuildFlags extends CommonFlags {
  from?: string[];
}

/** What rebuild can and cannot bring back; said in its output and in the README. */
export const REBUILD_SCOPE =
  'Rebuilt from the destinations: the backup list (from their manifests) and the schedules that target them (from schedules.fbc, kept there whenever a schedule is added or removed with the key). Not restorable: run history, missed-run records, the deletion log and verification results lived only in the catalog and are gone.';

/**
 * `firebackup catalog rebuild|path`. Rebuild re-reads every known destination (plus any
 * given with --from): its manifests make the backup list, its schedules object brings
 * back the schedules that target it.
 */
export function registerCatalog(program: Command, io: CliIO, done: (code: number) => void): void {
  const catalog = program
    .command('catalog')
    .description('the local catalog (a cache of what destinations hold)');

  addCommonFlags(catalog.command('path').description('print where the catalog file is')).action(
    async (flags: CommonFlags) => {
      done(
        await runCommand(io, flags, async ({ out }) => {
          const file = catalogFileFor(io.env);
          out.result({ path: file }, file);
        }),
      );
    },
  );

  const rebuild = catalog
    .command('rebuild')
    .description(
      "recreate the catalog's backups and schedules from the destinations (run history cannot be)",
    )
    .option(
      '--from <destinations>',
      'also read these destinations (folders or URLs; repeatable)',
      listFlag,
    );
  addKeyFlags(rebuild);
  addCommonFlags(rebuild).action(async (flags: RebuildFlags) => {
    done(
      await runCommand(io, flags, async ({ out }) => {
        const runtime = await openRuntime(io, flags, out);
        try {
          for (const location of flags.from ?? []) {
            const url = destinationUrl(location);
            runtime.catalog.destinations.upsert({ name: url, url });
          }
          const { engine } = runtime;
          const report = await rebuildCatalog(
            runtime.catalog,
            (d) => engine.list(d),
            engine.readSchedules ? (d) => engine.readSchedules!(d) : undefined,
          );
          const human = report.destinations.length
            ? `${table(
                ['DESTINATION', 'BACKUPS', 'ADDED', 'REMOVED', 'SCHEDULES RESTORED', 'PROBLEM'],
                report.destinations.map((d) => [
                  d.url,
                  String(d.backups),
                  String(d.added),
                  String(d.removed),
                  d.schedules?.restored.join(', ') || '-',
                  [
                    d.error?.message,
                    d.schedulesError && `schedules: ${d.schedulesError.message}`,
                    ...(d.schedules?.skipped ?? []).map((x) => `schedule ${x.name}: ${x.reason}`),
                  ]
                    .filter(Boolean)
                    .join('; '),
                ]),
              )}\n${REBUILD_SCOPE}`
            : 'No destinations known. Pass --from <destination> to read one.';
          out.result({ ...report, note: REBUILD_SCOPE }, human);
          return report.destinations.some((d) => d.error) ? 1 : 0;
        } finally {
          runtime.close();
        }
      }),
    );
  });
}
