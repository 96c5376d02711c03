import type { Command } from 'commander';
import { rewrapBackups, type RewrapResult } from '../../engine/operations/rewrap.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addDestinationFlags, openDestinationFromFlags } from '../destination-flags.js';

interface RewrapFlags extends CommonFlags {
  from: string;
  dryRun?: boolean;
}

/**
 * `keys rewrap --from <dest>`: every backup there moved onto the current key, so an old
 * key can be retired (docs/design.md §6). Registered under `keys` by registerKeys.
 */
export function registerKeysRewrap(keys: Command, io: CliIO, done: (code: number) => void): void {
  const command = keys
    .command('rewrap')
    .description(
      're-wrap the backups in a destination under the current key (old keys in $ENCRYPTION_OLD_KEYS), so an old key can be retired',
    )
    .requiredOption('--from <destination>', 'a folder (or file://, s3://, gs:// URL)')
    .option('--dry-run', 'list what would change, change nothing');
  addDestinationFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: RewrapFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const keyring = await keyringFor(io, flags);
        const destination = await openDestinationFromFlags(flags.from, flags);
        const results = await rewrapBackups(destination, keyring, {
          dryRun: flags.dryRun ?? false,
          signal,
          onBackup: (result) => out.info(describe(result)),
        });
        const failed = results.filter((r) => r.action === 'failed').length;
        const changed = results.filter((r) => r.action === 'rewrapped' || r.action === 'resealed');
        const verb = flags.dryRun ? 'would move' : 'moved';
        out.result(
          results,
          `${results.length} backup${results.length === 1 ? '' : 's'}: ${changed.length} ${verb} onto key ${keyring.current().id}, ${
            results.length - changed.length - failed
          } already on it, ${failed} failed.${
            failed
              ? ' Run again once the problems above are fixed; finished backups are skipped.'
              : ''
          }`,
        );
        return failed ? 1 : 0;
      }),
    );
  });
}

function describe(r: RewrapResult): string {
  const would = r.dryRun ? 'would be ' : '';
  switch (r.action) {
    case 'skipped':
      return `${r.id}: already under key ${r.keyId}`;
    case 'rewrapped':
      return `${r.id}: ${would}re-wrapped from key ${r.archiveKeyId} to ${r.keyId}`;
    case 'resealed':
      return `${r.id}: manifest ${would}re-sealed from key ${r.manifestKeyId} to ${r.keyId}`;
    case 'failed':
      return `${r.id}: failed: ${r.error?.message ?? 'unknown error'}`;
  }
}
