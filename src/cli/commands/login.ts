import type { Command } from 'commander';
import { createInterface } from 'node:readline/promises';
import type { SignedOut } from '../../engine/team/client.js';
import { callServer } from '../../engine/team/server-api.js';
import { signInWithBrowser, type SecondFactorPrompt } from '../../engine/team/sign-in.js';
import { AppError } from '../../shared/errors.js';
import { enrolmentQuestion } from '../enrolment-prompt.js';
import { addCommonFlags, runCommand, type CliIO, type CommonFlags } from '../context.js';
import { cliTeamClient, openInBrowser } from '../team.js';

interface LoginFlags extends CommonFlags {
  server: string;
  org?: string;
  open: boolean;
}

interface Organisation {
  id: string;
  name: string;
  role: string;
}

/**
 * `firebackup login --server <url>`: signs in to an organisation server through the
 * system browser (src/engine/team/sign-in.ts, the same steps as the app's Team screen) and
 * keeps the sign-in where every front end of this machine finds it (ADR 0017).
 */
export function registerLogin(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('login')
    .description('sign in to an organisation server (team sync) through your browser')
    .requiredOption('--server <url>', "the organisation server's address")
    .option('--org <id>', 'the organisation to work in (default: your only one)')
    .option('--no-open', 'print the address to open instead of opening a browser');
  addCommonFlags(command).action(async (flags: LoginFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const client = cliTeamClient(io);
        const show = (url: string) =>
          io.stderr.write(`Open this address in your browser to sign in:\n\n  ${url}\n\n`);
        const credentials = await signInWithBrowser({
          serverUrl: flags.server,
          signal,
          openUrl: async (url) => {
            if (!flags.open) show(url);
            else
              await openInBrowser(url, io.env).then(
                () => out.info(`Opened your browser to sign in (if it did not, go to ${url}).`),
                () => show(url),
              );
            out.info('Waiting for you to sign in (5 minutes at most; Ctrl-C to stop)…');
          },
          secondFactor: terminalSecondFactor(io),
        });
        const { organizations } = await callServer<{ organizations: Organisation[] }>(
          credentials.serverUrl,
          '/api/v1/me',
          { accessToken: credentials.accessToken, signal },
        );
        const picked =
          flags.org !== undefined ? organizations.find((o) => o.id === flags.org) : undefined;
        if (picked !== undefined) credentials.organizationId = picked.id;
        const previous = await client.replace(credentials, signal);
        if (previous.wasSignedIn) out.info(endedPrevious(previous));
        const where = `${credentials.serverUrl} as ${credentials.user.email}`;
        const list = organizations.map((o) => `${o.name} (${o.id}, ${o.role})`).join(', ');
        const pickHint = `pick one with \`firebackup login --server ${credentials.serverUrl} --org <id>\``;
        if (flags.org !== undefined && picked === undefined)
          throw new AppError(
            'NOT_FOUND',
            `Signed in to ${where}, but you are not a member of organisation ${flags.org}${
              organizations.length > 0
                ? ` (yours: ${list}); ${pickHint}`
                : '; ask an admin of it to invite you'
            }.`,
          );
        const current = organizations.find((o) => o.id === credentials.organizationId);
        const human =
          current !== undefined
            ? `Signed in to ${where}; organisation ${current.name} (${current.id}), role ${current.role}.`
            : organizations.length === 0
              ? `Signed in to ${where}; you are in no organisation yet: ask an admin to invite you.`
              : `Signed in to ${where}; you are in ${organizations.length} organisations: ${list}; ${pickHint}.`;
        out.result(
          {
            ok: true,
            server: credentials.serverUrl,
            user: credentials.user,
            organization: current ?? null,
            organizations,
          },
          human,
        );
      }),
    );
  });
}

/**
 * The second factor at the terminal: the authenticator's code (or a recovery code), or on
 * a first sign-in where the server requires one, the authenticator to set up. Read from
 * standard input, so a script can pipe the code in; a refused code is asked again.
 */
function terminalSecondFactor(io: CliIO): SecondFactorPrompt {
  return {
    askCode: async (request, failure) =>
      askLine(
        io,
        failure !== undefined
          ? `${failure.message}\nCode: `
          : request.demand === 'code'
            ? 'Two-step sign-in: enter the 6-digit code from your authenticator app (or a recovery code): '
            : // The QR code only where it can be scanned: the question goes to stderr.
              await enrolmentQuestion(request, io.stderr.isTTY === true),
      ),
    showRecoveryCodes: (codes) => {
      io.stderr.write(
        `\nTwo-step sign-in is on. Keep these one-use recovery codes somewhere safe; they are shown only now:\n\n  ${codes.join('\n  ')}\n\n`,
      );
    },
  };
}
async function askLine(io: CliIO, question: string): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: io.stderr,
    terminal: process.stdin.isTTY === true,
  });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('close', () =>
        reject(
          new AppError(
            'FAILED_PRECONDITION',
            'No code was given (standard input ended). Run `firebackup login` at a terminal, or pipe the code in.',
          ),
        ),
      );
      rl.question(question).then(resolve, reject);
    });
  } finally {
    rl.close();
  }
}

/** What became of the sign-in the new one replaced (its session is ended, not left behind). */
function endedPrevious(previous: SignedOut): string {
  const which =
    previous.signIn !== null
      ? `${previous.signIn.serverUrl} as ${previous.signIn.user.email}`
      : 'unreadable';
  switch (previous.outcome) {
    case 'ended':
      return `Your previous sign-in (${which}) was ended.`;
    case 'unreachable':
      return `Your previous sign-in (${which}) could not be ended there (${previous.problem}); it stays valid until it expires.`;
    case 'unreadable':
      return 'Your previous sign-in was unreadable; it was removed.';
    default:
      return `Your previous sign-in (${which}) had already ended.`;
  }
}
