import type { Command } from 'commander';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliTeamClient } from '../team.js';

interface Me {
  user: { id: string; email: string };
  organizations: Array<{ id: string; name: string; role: string }>;
}

/**
 * `firebackup whoami`: who this machine is signed in as on the organisation server, asked
 * of the server itself (so a revoked or expired session says so), and how many sessions
 * the member has open. Calls go through TeamClient, which refreshes the token pair as
 * every front end does.
 */
export function registerWhoami(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('whoami')
    .description('show the organisation server, user, organisation and role you are signed in as');
  addCommonFlags(command).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const client = cliTeamClient(io);
        await client.requireSignIn();
        const me = (await client.request<Me>('GET', '/me', { signal })).body;
        const sessions = (
          await client.request<{ sessions: unknown[] }>('GET', '/me/sessions', { signal })
        ).body;
        const credentials = await client.requireSignIn();
        const { organizations } = me;
        const current = organizations.find((o) => o.id === credentials.organizationId);
        const organisation =
          current !== undefined
            ? `${current.name} (${current.id})`
            : credentials.organizationId !== null
              ? `${credentials.organizationId}: you are no longer a member`
              : organizations.length === 0
                ? 'none (you are in no organisation yet)'
                : `none picked; yours: ${organizations.map((o) => `${o.name} (${o.id})`).join(', ')} (\`firebackup login --server ${credentials.serverUrl} --org <id>\`)`;
        const count = sessions.sessions.length;
        const lines = [
          ['Server', credentials.serverUrl],
          ['User', `${me.user.email} (${me.user.id})`],
          ['Organisation', organisation],
          ['Role', current?.role ?? '-'],
          ['Sessions', `${count} open (this one included)`],
        ];
        out.result(
          {
            server: credentials.serverUrl,
            user: me.user,
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
