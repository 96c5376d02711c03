import type { Command } from 'commander';
import {
  clearTeamCredentials,
  loadTeamCredentials,
  type TeamCredentials,
} from '../../engine/team/credentials.js';
import { asMember } from '../../engine/team/server-api.js';
import { AppError, toErrorData } from '../../shared/errors.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliSecrets, saveTo } from '../team.js';

/**
 * `firebackup logout`: ends the session on the server (POST /api/v1/auth/logout), then
 * forgets this machine's sign-in whatever the server said, and says which happened: a
 * session the server could not be told about stays valid there until it expires.
 */
export function registerLogout(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('logout')
    .description("sign out of the organisation server and forget this machine's sign-in");
  addCommonFlags(command).action(async (flags: CommonFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const secrets = cliSecrets(io);
        let saved: TeamCredentials | undefined;
        let unreadable = false;
        try {
          saved = await loadTeamCredentials(secrets);
        } catch {
          // Damaged: nothing to tell a server about, but still removed below.
          unreadable = true;
        }
        let server: 'ended' | 'already ended' | 'unreachable' | 'not signed in' = 'not signed in';
        let why = '';
        if (saved !== undefined) {
          try {
            await asMember(saveTo(secrets), saved, '/api/v1/auth/logout', {
              method: 'POST',
              signal,
            });
            server = 'ended';
          } catch (error) {
            if (error instanceof AppError && error.code === 'UNAUTHENTICATED')
              server = 'already ended';
            else {
              server = 'unreachable';
              why = toErrorData(error).message;
            }
          }
        }
        const removed = await clearTeamCredentials(secrets);
        const url = saved?.serverUrl;
        const human =
          server === 'ended'
            ? `Signed out: the session on ${url} was ended, and this machine's sign-in removed.`
            : server === 'already ended'
              ? `The session on ${url} had already ended; this machine's sign-in was removed.`
              : server === 'unreachable'
                ? `This machine's sign-in was removed, but the server could not be told: ${why}\nThe session there stays valid until it expires; end it from another device (\`DELETE /api/v1/me/sessions/${saved?.sessionId}\`) if this machine's copy may have leaked.`
                : removed || unreadable
                  ? 'The saved sign-in was unreadable; it was removed.'
                  : 'Not signed in; nothing to do.';
        out.result({ ok: true, server: url ?? null, serverSession: server, removed }, human);
      }),
    );
  });
}
