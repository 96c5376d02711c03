import type { Command } from 'commander';
import { loadTeamCredentials } from '../../engine/team/credentials.js';
import { asMember } from '../../engine/team/server-api.js';
import { AppError } from '../../shared/errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliSecrets, saveTo } from '../team.js';

interface Me {
  user: { id: string; email: string };
  organizations: Array<{ id: string; name: string; role: string }>;
}

/**
 * `firebackup whoami`: who this machine is signed in as on the organisation server, asked
 * of the server itself (so a revoked or expired session says so), and how many sessions
 * the member has open.
 */
export function registerWhoami(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('whoami')
    .description('show the organisation server, user, organisation and role you are signed in as');
  addCommonFlags(command).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const secrets = cliSecrets(io);
        const saved = await loadTeamCredentials(secrets);
        if (saved === undefined)
          throw new AppError(
            'UNAUTHENTICATED',
            'Not signed in to an organisation server; run `firebackup login --server <url>`.',
          );
        const me = await asMember<Me>(saveTo(secrets), saved, '/api/v1/me', { signal });
        const sessions = await asMember<{ sessions: unknown[] }>(
          saveTo(secrets),
          me.credentials,
          '/api/v1/me/sessions',
          { signal },
        );
        const credentials = sessions.credentials;
        const { organizations } = me.value;
        const current = organizations.find((o) => o.id === credentials.organizationId);
        const organisation =
          current !== undefined
            ? `${current.name} (${current.id})`
            : credentials.organizationId !== null
              ? `${credentials.organizationId}: you are no longer a member`
              : organizations.length === 0
                ? 'none (you are in no organisation yet)'
                : `none picked; yours: ${organizations.map((o) => `${o.name} (${o.id})`).join(', ')} (\`firebackup login --server ${credentials.serverUrl} --org <id>\`)`;
        const count = sessions.value.sessions.length;
        const lines = [
          ['Server', credentials.serverUrl],
          ['User', `${me.value.user.email} (${me.value.user.id})`],
          ['Organisation', organisation],
          ['Role', current?.role ?? '-'],
          ['Sessions', `${count} open (this one included)`],
        ];
        out.result(
          {
            server: credentials.serverUrl,
            user: me.value.user,
            organization: current ?? null,
            organizations,
            sessions: count,
          },
          lines.map(([k, v]) => `${`${k}:`.padEnd(14)}${v}`).join('\n'),
        );
      }),
    );
  });
}
