import type { Command } from 'commander';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliTeamClient } from '../team.js';

/**
 * `firebackup logout`: ends the session on the server (POST /api/v1/auth/logout), then
 * forgets this machine's sign-in whatever the server said, and says which happened: a
 * session the server could not be told about stays valid there until it expires. The
 * sign-in is the one every front end shares (ADR 0017): the desktop app and the web mode
 * are signed out too.
 */
export function registerLogout(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('logout')
    .description("sign out of the organisation server and forget this machine's sign-in");
  addCommonFlags(command).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const result = await cliTeamClient(io).signOut(signal);
        const url = result.signIn?.serverUrl;
        const human =
          result.outcome === 'ended'
            ? `Signed out: the session on ${url} was ended, and this machine's sign-in removed (for the app too).`
            : result.outcome === 'already-ended'
              ? `The session on ${url} had already ended; this machine's sign-in was removed.`
              : result.outcome === 'unreachable'
                ? `This machine's sign-in was removed, but the server could not be told: ${result.problem}\nThe session there stays valid until it expires; end it from another device (\`DELETE /api/v1/me/sessions/${result.signIn?.sessionId}\`) if this machine's copy may have leaked.`
                : result.outcome === 'unreadable'
                  ? 'The saved sign-in was unreadable; it was removed.'
                  : 'Not signed in; nothing to do.';
        const serverSession = {
          ended: 'ended',
          'already-ended': 'already ended',
          unreachable: 'unreachable',
          unreadable: 'not signed in',
          'not-signed-in': 'not signed in',
        }[result.outcome];
        out.result(
          { ok: true, server: url ?? null, serverSession, removed: result.wasSignedIn },
          human,
        );
      }),
    );
  });
}
