import type { Command } from 'commander';
import { findDocument, inspectBackup } from '../../engine/operations/inspect.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { addScopeFlags, resolveAndAnnounce, type ScopeFlags } from '../backup-ref.js';
import { addBackupLocationFlags } from '../destination-flags.js';
import { formatCount } from '../output.js';
import { crossCheckDetail, sourceLines } from '../source-flags.js';
import { table } from '../table.js';

interface InspectFlags extends CommonFlags, ScopeFlags {
  path?: string;
}

export function registerInspect(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('inspect <backup>')
    .description("show a backup's collections with counts, or one document, without restoring")
    .option('--path <document>', 'show one document, e.g. users/alice');
  addBackupLocationFlags(command);
  addScopeFlags(command);
  addKeyFlags(command);
  addCommonFlags(command).action(async (ref: string, flags: InspectFlags) => {
    done(
      await runCommand(io, flags, async ({ out, ctx }) => {
        const keyring = await keyringFor(io, flags);
        const { backup, origin } = await resolveAndAnnounce(ref, flags, keyring, out);
        if (flags.path) {
          const doc = await findDocument(backup, keyring, flags.path, ctx);
          out.result(doc, JSON.stringify(doc, null, 2));
          return;
        }
        const report = await inspectBackup(backup, keyring, ctx);
        const h = report.header;
        out.result(
          { ...report, of: origin },
          [
            `Backup ${h.backupId} of ${h.project}/${h.database}, read at ${h.readTime}, ${formatCount(report.documents)} documents`,
            ...sourceLines(report.sources),
            ...crossCheckDetail(report.crossChecks),
            '',
            // Paths last: a deep subcollection path then widens only its own line.
            table(
              ['DOCUMENTS', 'COLLECTION'],
              report.collections.map((c) => [formatCount(c.documents), c.collection]),
            ),
          ].join('\n'),
        );
      }),
    );
  });
}
