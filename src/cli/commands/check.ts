import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { CHECK_CATEGORIES, checkExitCode, type CheckReport } from '../../shared/check.js';
import { AppError } from '../../shared/errors.js';
import { openCatalog } from '../../engine/jobs/runtime.js';
import { checkDestination, DEFAULT_MIN_AGE_MS } from '../../engine/operations/check.js';
import { catalogFileFor } from '../../engine/catalog/location.js';
import { formatDuration, parseDuration } from '../../engine/util/duration.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addDestinationFlags, openDestinationFromFlags } from '../destination-flags.js';
import { formatBytes } from '../output.js';
import { destinationUrl } from './schedule.js';

interface CheckFlags extends CommonFlags {
  from: string;
  readData?: number;
  repair?: boolean;
  minAge?: number;
}

function parseFraction(value: string): number {
  const n = Number(value.endsWith('%') ? Number(value.slice(0, -1)) / 100 : value);
  if (!value.trim() || !Number.isFinite(n) || n < 0 || n > 1) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--read-data takes a share from 0 to 1 (0.1 or 10% = a tenth of the backups, 1 = all), not "${value}".`,
    );
  }
  return n;
}

/** The backup ids the local catalog holds for this destination, if it knows it. */
function catalogIdsFor(io: CliIO, location: string): string[] | undefined {
  if (!existsSync(catalogFileFor(io.env))) return undefined;
  const catalog = openCatalog(io.env);
  try {
    const destination = catalog.destinations.findByUrl(destinationUrl(location));
    return destination && catalog.backups.list({ destinationId: destination.id }).map((b) => b.id);
  } finally {
    catalog.close();
  }
}

/** The report for people: one line per category, the items under the ones that have some. */
export function formatCheckReport(report: CheckReport): string {
  const lines = [
    `Checked ${report.destination}: ${report.backups} backup${report.backups === 1 ? '' : 's'}, ${report.readData.ids.length} decrypted in full (read-data ${report.readData.fraction}).`,
  ];
  for (const name of CHECK_CATEGORIES) {
    const c = report.categories[name];
    if (c.status !== 'checked') {
      lines.push(`  -  ${c.title}: ${c.status.replace('-', ' ')} (${c.reason ?? ''})`);
      continue;
    }
    const mark = c.items.length === 0 ? 'ok' : c.severity === 'notice' ? '!' : 'XX';
    lines.push(`  ${mark.padEnd(2)} ${c.title}: ${c.items.length || 'none'}`);
    for (const item of c.items) {
      const size = item.size !== undefined ? ` (${formatBytes(item.size)})` : '';
      const action = item.removed ? ' [removed]' : item.kept ? ` [kept: ${item.kept}]` : '';
      const label = `${item.id ?? item.key}${size}`;
      // Messages from verify already start with the backup's id.
      const what = item.message.startsWith(`${item.id ?? item.key}:`)
        ? item.message
        : `${label}: ${item.message}`;
      lines.push(`       ${what}${action}`);
    }
  }
  const verdict =
    report.damage > 0
      ? `DAMAGE: ${report.damage} problem(s) with backups.`
      : report.keyProblems > 0
        ? `KEYS: ${report.keyProblems} backup(s) under a key not given; pass it with ENCRYPTION_OLD_KEYS.`
        : 'OK: every backup checked is sound.';
  const removable = Object.values(report.categories)
    .filter((c) => c.severity === 'notice')
    .flatMap((c) => c.items)
    .filter((i) => !i.removed).length;
  const hint =
    !report.repair && removable > 0
      ? ` ${report.notices} notice(s); \`--repair\` removes old orphans and leftovers.`
      : report.notices > 0
        ? ` ${report.notices} notice(s).`
        : '';
  lines.push(verdict + hint);
  return lines.join('\n');
}

/** `firebackup check --from <dest>`: the whole destination, as `restic check` does it. */
export function registerCheck(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('check')
    .description(
      'check a whole destination: every manifest and archive digest, orphans, leftovers, the catalog, and (--read-data) archives decrypted in full',
    )
    .requiredOption('--from <destination>', 'the destination to check (folder or URL)')
    .option(
      '--read-data <fraction>',
      'also decrypt and authenticate this share of the archives in full (0.1 or 10%, 1 = all)',
      parseFraction,
    )
    .option(
      '--repair',
      'remove orphan archives and manifests, stale temporaries and abandoned uploads older than --min-age (never an archive that has a manifest)',
    )
    .option(
      '--min-age <duration>',
      `with --repair, only remove what is older than this (default ${formatDuration(DEFAULT_MIN_AGE_MS)}): anything younger may be a backup running now`,
      (v: string) => parseDuration(v, '--min-age'),
    );
  addDestinationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: CheckFlags) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        const keyring = await keyringFor(io, flags);
        const destination = await openDestinationFromFlags(flags.from, flags);
        const catalogIds = catalogIdsFor(io, flags.from);
        const report = await checkDestination(destination, keyring, ctx, {
          readData: flags.readData ?? 0,
          repair: flags.repair ?? false,
          ...(flags.minAge !== undefined ? { minAgeMs: flags.minAge } : {}),
          ...(catalogIds ? { catalogIds } : {}),
        });
        out.endProgress();
        out.result(report, formatCheckReport(report));
        return checkExitCode(report);
      }),
    );
  });
}
