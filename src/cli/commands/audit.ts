import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { TeamClient } from '../../engine/team/client.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliSecrets } from '../team.js';
import type { VerifyResult } from '../../shared/audit-verify.js';

interface AuditFlags extends CommonFlags {
  server?: string;
  org?: string;
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
function describeChain(orgId: string, server: string, r: VerifyResult): string {
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

/** The signed-in client, its server and the organisation the command works on. */
async function target(
  io: CliIO,
  flags: AuditFlags,
): Promise<{ client: TeamClient; serverUrl: string; orgId: string }> {
  const client = new TeamClient({ secrets: cliSecrets(io) });
  const { serverUrl } = await client.requireSignIn();
  if (flags.server !== undefined && !sameServer(flags.server, serverUrl))
    throw new AppError(
      'FAILED_PRECONDITION',
      `You are signed in to ${serverUrl}, not ${flags.server}; run \`firebackup login --server ${flags.server}\` first.`,
    );
  return { client, serverUrl, orgId: flags.org ?? (await client.organizationId()) };
}

/** The server's refusal by role, said as what the command needs. */
async function asAdmin<T>(orgId: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (isAppError(error) && error.code === 'PERMISSION_DENIED')
      throw new AppError(
        'PERMISSION_DENIED',
        `Only an owner or admin of organisation ${orgId} may ${what} (the server said: ${error.message})`,
      );
    throw error;
  }
}

function targetFlags(command: Command): Command {
  return command
    .option('--server <url>', 'the organisation server (default: the one you are signed in to)')
    .option('--org <id>', 'the organisation (default: the one you picked at login)');
}

/**
 * Records in CSV text (the header row included): line ends outside double quotes, since a
 * cell may hold a line break inside its quotes (a quote inside a cell is doubled, so the
 * toggling stays in step).
 */
function csvRecords(text: string): number {
  let records = 0;
  let quoted = false;
  for (const ch of text) {
    if (ch === '"') quoted = !quoted;
    else if (ch === '\n' && !quoted) records++;
  }
  return text === '' || text.endsWith('\n') ? records : records + 1;
}

interface ExportFlags extends AuditFlags {
  format: string;
  output?: string;
  event?: string;
  since?: string;
  until?: string;
  limit?: string;
}

/**
 * `firebackup audit verify` asks the organisation server to check its audit log's hash
 * chain (GET …/audit/verify, owner or admin) as the signed-in member, and prints the
 * verdict. Exit 0 intact, 3 tampered (as for a damaged archive), 1 when it cannot ask
 * (not signed in, no organisation, not allowed, unreachable). `firebackup audit export`
 * downloads the log (GET …/audit/export: linked entries in chain order) as NDJSON or CSV.
 */
export function registerAudit(program: Command, io: CliIO, done: (code: number) => void): void {
  const audit = program
    .command('audit')
    .description("the organisation server's audit log (team sync mode)");
  const verify = targetFlags(
    audit
      .command('verify')
      .description("check that the organisation's audit log was not edited, removed or cut short"),
  );
  addCommonFlags(verify).action(async (flags: AuditFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const { client, serverUrl, orgId } = await target(io, flags);
        const { body: report } = await asAdmin(orgId, 'verify its audit log', () =>
          client.request<VerifyResult>(
            'GET',
            `/organizations/${encodeURIComponent(orgId)}/audit/verify`,
            { signal },
          ),
        );
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

  const exporter = targetFlags(
    audit
      .command('export')
      .description('download the audit log (oldest first) as NDJSON or CSV')
      .option('--format <format>', 'ndjson or csv', 'ndjson')
      .option('--output <file>', 'write to this new file (default: standard output)')
      .option('--event <name>', 'only this event (e.g. billing.updated)')
      .option('--since <time>', 'only entries at or after this ISO time')
      .option('--until <time>', 'only entries before this ISO time')
      .option('--limit <n>', 'at most this many entries (server default 10,000, at most 100,000)'),
  );
  addCommonFlags(exporter).action(async (flags: ExportFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        if (flags.format !== 'ndjson' && flags.format !== 'csv')
          throw new AppError(
            'INVALID_ARGUMENT',
            `--format must be ndjson or csv (got "${flags.format}").`,
          );
        // Checked before asking: an existing file is never overwritten.
        if (flags.output !== undefined && existsSync(flags.output))
          throw new AppError(
            'ALREADY_EXISTS',
            `${flags.output} already exists; choose a new file name (or remove it first).`,
          );
        const { client, orgId } = await target(io, flags);
        const { body } = await asAdmin(orgId, 'export its audit log', () =>
          client.request<string>(
            'GET',
            `/organizations/${encodeURIComponent(orgId)}/audit/export`,
            {
              signal,
              text: true,
              query: {
                format: flags.format,
                event: flags.event,
                since: flags.since,
                until: flags.until,
                limit: flags.limit,
              },
            },
          ),
        );
        const entries =
          flags.format === 'csv'
            ? Math.max(0, csvRecords(body) - 1)
            : body.split('\n').filter((line) => line !== '').length;
        if (flags.output === undefined) {
          io.stdout.write(body);
          out.info(`${entries} audit entries of organisation ${orgId}.`);
          return;
        }
        await writeFile(flags.output, body, { flag: 'wx', mode: 0o600 });
        out.result(
          { ok: true, file: flags.output, format: flags.format, entries, organization: orgId },
          `Wrote ${entries} audit entries of organisation ${orgId} to ${flags.output} (${flags.format}).`,
        );
      }),
    );
  });
}
