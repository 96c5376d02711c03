import type { Command } from 'commander';
import { TeamClient } from '../../engine/team/client.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliSecrets } from '../team.js';

interface AuditFlags extends CommonFlags {
  server?: string;
  org?: string;
}

/** The server's answer to GET …/audit/verify (src/server/audit.ts VerifyResult). */
interface ChainReport {
  ok: boolean;
  entries: number;
  brokenAt?: number;
  reason?: string;
  prunedThrough?: number;
  pending?: number;
}

/** What each of the server's reasons means, for a person reading the verdict. */
const REASONS: Record<string, (seq: number) => string> = {
  'entry edited': (seq) => `entry ${seq} was changed after it was written`,
  'entry missing': (seq) => `entry ${seq} was removed`,
  'link to previous entry broken': (seq) =>
    `entry ${seq} does not link to the entry before it (entries were inserted, reordered or re-hashed)`,
  'entries missing at the end': (seq) =>
    `the entries from ${seq} on were removed (the chain's recorded last entry is further on)`,
  'chain head missing': () => "the chain's record of its last entry was removed",
};

/** The verdict in words: how far the chain holds, where and why it breaks, what waits. */
function describeChain(orgId: string, server: string, r: ChainReport): string {
  const first = (r.prunedThrough ?? 0) + 1;
  const pruned =
    r.prunedThrough !== undefined
      ? ` Entries 1-${r.prunedThrough} were removed by retention (AUDIT_LOG_RETENTION_DAYS); the check starts after them.`
      : '';
  const pending =
    r.pending !== undefined
      ? ` ${r.pending} newer ${r.pending === 1 ? 'entry is' : 'entries are'} committed but not linked into the chain yet, so not checked; run this again in a few seconds to include them.`
      : '';
  const where = `The audit log of organisation ${orgId} on ${server}`;
  if (r.ok) {
    const through = first - 1 + r.entries;
    return r.entries === 0
      ? `${where} has no linked entries yet: nothing to check.${pruned}${pending}`
      : `${where} is intact: the hash chain holds from entry ${first} through entry ${through} (${r.entries} checked).${pruned}${pending}`;
  }
  const at = r.brokenAt ?? first;
  const why = REASONS[r.reason ?? '']?.(at) ?? `entry ${at}: ${r.reason ?? 'unknown reason'}`;
  const intact =
    at > first
      ? `Entries ${first}-${at - 1} are intact.`
      : 'No entry before it can be vouched for.';
  return `${where} has been TAMPERED WITH: the chain breaks at entry ${at}: ${why}. ${intact}${pruned}${pending}\nKeep a copy of the log as it is now (\`GET …/audit/export\`) and tell whoever runs the server's database: the change happened there, outside FireBackup.`;
}

/** `--server` must be the server this machine is signed in to (its sign-in is per server). */
function sameServer(given: string, signedIn: string): boolean {
  try {
    return new URL(given).origin === new URL(signedIn).origin;
  } catch {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--server must be the server's address, like https://backup.example.com (got "${given}").`,
    );
  }
}

/**
 * `firebackup audit verify`: asks the organisation server to check its audit log's hash
 * chain (GET …/audit/verify, owner or admin) as the signed-in member, and prints the
 * verdict. Exit 0 intact, 3 tampered (as for a damaged archive), 1 when it cannot ask
 * (not signed in, no organisation, not allowed, unreachable).
 */
export function registerAudit(program: Command, io: CliIO, done: (code: number) => void): void {
  const audit = program
    .command('audit')
    .description("the organisation server's audit log (team sync mode)");
  const verify = audit
    .command('verify')
    .description("check that the organisation's audit log was not edited, removed or cut short")
    .option('--server <url>', 'the organisation server (default: the one you are signed in to)')
    .option('--org <id>', 'the organisation (default: the one you picked at login)');
  addCommonFlags(verify).action(async (flags: AuditFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const client = new TeamClient({ secrets: cliSecrets(io) });
        const { serverUrl } = await client.requireSignIn();
        if (flags.server !== undefined && !sameServer(flags.server, serverUrl))
          throw new AppError(
            'FAILED_PRECONDITION',
            `You are signed in to ${serverUrl}, not ${flags.server}; run \`firebackup login --server ${flags.server}\` first.`,
          );
        const orgId = flags.org ?? (await client.organizationId());
        let report: ChainReport;
        try {
          report = (
            await client.request<ChainReport>(
              'GET',
              `/organizations/${encodeURIComponent(orgId)}/audit/verify`,
              { signal },
            )
          ).body;
        } catch (error) {
          if (isAppError(error) && error.code === 'PERMISSION_DENIED')
            throw new AppError(
              'PERMISSION_DENIED',
              `Only an owner or admin of organisation ${orgId} may verify its audit log (the server said: ${error.message})`,
            );
          throw error;
        }
        const through = report.ok ? (report.prunedThrough ?? 0) + report.entries : undefined;
        out.result(
          {
            ...report,
            server: serverUrl,
            organization: orgId,
            ...(through !== undefined ? { through } : {}),
          },
          describeChain(orgId, serverUrl, report),
        );
        // Tampered: the same code as a damaged archive, so scripts treat both alike.
        return report.ok ? 0 : 3;
      }),
    );
  });
}
