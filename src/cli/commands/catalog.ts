import type { Command } from 'commander';
import { rebuildCatalog } from '../../engine/catalog/rebuild.js';
import { appDataDir, catalogPath } from '../../engine/paths.js';
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

/**
 * `firebackup catalog rebuild|path`. The catalog is a cache: rebuild re-reads every known
 * destination's manifests (plus any given with --from) and makes the backup list match.
 */
export function registerCatalog(program: Command, io: CliIO, done: (code: number) => void): void {
  const catalog = program
    .command('catalog')
    .description('the local catalog (a cache of what destinations hold)');

  addCommonFlags(catalog.command('path').description('print where the catalog file is')).action(
    async (flags: CommonFlags) => {
      done(
        await runCommand(io, flags, async ({ out }) => {
          const file = catalogPath(appDataDir(io.env));
          out.result({ path: file }, file);
        }),
      );
    },
  );

  const rebuild = catalog
    .command('rebuild')
    .description("recreate the catalog's backup list from the destinations' manifests")
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
          const report = await rebuildCatalog(runtime.catalog, (d) => runtime.engine.list(d));
          const human = report.destinations.length
            ? table(
                ['DESTINATION', 'BACKUPS', 'ADDED', 'REMOVED', 'PROBLEM'],
                report.destinations.map((d) => [
                  d.url,
                  String(d.backups),
                  String(d.added),
                  String(d.removed),
                  d.error?.message ?? '',
                ]),
              )
            : 'No destinations known. Pass --from <destination> to read one.';
          out.result(report, human);
          return report.destinations.some((d) => d.error) ? 1 : 0;
        } finally {
          runtime.close();
        }
      }),
    );
  });
}
