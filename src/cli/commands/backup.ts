import type { Command } from 'commander';
import { backupScopeProblems } from '../../shared/backup-scope.js';
import { AppError } from '../../shared/errors.js';
import { crossCheckLines } from '../../engine/operations/cross-checks.js';
import {
  addCommonFlags,
  addKeyFlags,
  addSourceFlags,
  keyringFor,
  listFlag,
  parseQuality,
  runCommand,
  sourceOptions,
  type CliIO,
  type CommonFlags,
  type SourceFlags,
} from '../context.js';
import { roomForBackupHeap } from '../backup-heap.js';
import { addDestinationFlags, openDestinationFromFlags } from '../destination-flags.js';
import { formatBytes, formatCount, formatDuration } from '../output.js';
import { addOtherSourceFlags, otherSourceOptions, type OtherSourceFlags } from '../source-flags.js';

interface BackupFlags extends CommonFlags, SourceFlags, OtherSourceFlags {
  to: string;
  collections?: string[];
  exclude?: string[];
  compressionLevel?: number;
  allowEmpty?: boolean;
}

export function registerBackup(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('backup')
    .description(
      'back up a Firebase project (Firestore, Auth users, Storage files) into an encrypted archive',
    )
    .requiredOption(
      '--to <destination>',
      'where to store the backup: a folder (or file://, s3://, gs:// URL)',
    )
    .option(
      '--collections <ids>',
      'only these collections (root ids or path prefixes, comma-separated)',
      listFlag,
    )
    .option('--exclude <ids>', 'leave out these collections (root ids or path prefixes)', listFlag)
    .option(
      '--compression-level <0-11>',
      'Brotli quality: higher is smaller and slower',
      parseQuality,
      5,
    )
    .option('--allow-empty', 'an empty (0-document) backup is expected: no warning');
  addSourceFlags(command);
  addOtherSourceFlags(command, 'backup');
  addDestinationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: BackupFlags) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        const keyring = await keyringFor(io, flags);
        keyring.current(); // no key: say so before connecting to anything
        const destination = await openDestinationFromFlags(flags.to, flags);
        const source = sourceOptions(io, flags, flags.project);
        const others = otherSourceOptions(io, flags, source);
        // A filter for a source left out of --sources would be ignored: refuse it.
        const problems = backupScopeProblems({
          ...(flags.sources ? { sources: flags.sources } : {}),
          ...(flags.buckets ? { buckets: flags.buckets } : {}),
          ...(flags.storagePrefix ? { storagePrefix: flags.storagePrefix } : {}),
          ...(flags.rtdbInstances ? { rtdbInstances: flags.rtdbInstances } : {}),
          ...(flags.rtdbPaths ? { rtdbPaths: flags.rtdbPaths } : {}),
          ...(flags.collections ? { collections: flags.collections } : {}),
          ...(flags.exclude ? { exclude: flags.exclude } : {}),
        });
        if (flags.sources && problems.length > 0) {
          throw new AppError('INVALID_ARGUMENT', problems.join(' '));
        }
        // The engine's backup (Firestore, Storage, Auth, RTDB clients) is loaded only now:
        // `backup --help` and usage errors stay quick (~0.3 s less CPU).
        const [{ runBackup }, { chooseSources }] = await Promise.all([
          import('../../engine/operations/backup.js'),
          import('../../engine/operations/source-probes.js'),
        ]);
        roomForBackupHeap();
        const chosen = flags.sources
          ? { sources: flags.sources, skipped: [] }
          : await chooseSources({ projectId: source.projectId, ...others });
        for (const { source: name, reason } of chosen.skipped) {
          out.info(`Skipping ${name}: ${reason}`);
        }
        out.info(
          `Backing up ${source.projectId}/${source.databaseId ?? '(default)'}${source.emulatorHost ? ` (emulator ${source.emulatorHost})` : ''} to ${destination.displayUrl}`,
        );
        const result = await runBackup(
          {
            destination,
            keyring,
            source,
            collections: flags.collections ?? [],
            exclude: flags.exclude ?? [],
            quality: flags.compressionLevel ?? 5,
            sources: chosen.sources,
            auth: others.auth,
            storage: others.storage,
            rtdb: others.rtdb,
            allowEmpty: Boolean(flags.allowEmpty),
          },
          ctx,
        );
        out.endProgress();
        for (const warning of result.warnings) out.info(`Warning: ${warning}`);
        const seconds = result.durationMs / 1000;
        const extra = [
          result.sources.includes('auth')
            ? `${formatCount(result.counts['auth.users'] ?? 0)} users`
            : '',
          result.sources.includes('rtdb')
            ? `${formatCount(result.counts['rtdb.records'] ?? 0)} RTDB records`
            : '',
          result.sources.includes('storage')
            ? `${formatCount(result.counts['storage.objects'] ?? 0)} files`
            : '',
        ]
          .filter(Boolean)
          .map((s) => `, ${s}`)
          .join('');
        out.result(
          { ok: true, ...result, skipped: chosen.skipped },
          `Backup ${result.id}: ${formatCount(result.documents)} documents${extra}, ${formatBytes(result.plaintextBytes)} → ${formatBytes(result.archiveBytes)} in ${formatDuration(seconds)} (${formatCount(result.documents / Math.max(seconds, 1e-3))} docs/s), key ${result.keyId}, read time ${result.readTime}`,
        );
        // Reported, never acted on: the user decides what the findings mean.
        const findings = crossCheckLines(result.crossChecks);
        if (findings.length > 0) {
          out.info(
            `Cross-checks (nothing was changed): ${findings.join('; ')}. The list: firebackup inspect ${result.id} --from ${flags.to}`,
          );
        }
      }),
    );
  });
}
