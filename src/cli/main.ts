import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../engine/version.js';
import { AppError, toErrorData, exitCodeFor } from '../shared/errors.js';
import type { CliIO } from './context.js';
import { addHelpExamples } from './help-examples.js';

type Register = (program: Command, io: CliIO, done: (code: number) => void) => void;

/**
 * Every command, in help order, with a loader for its module. The modules pull in the
 * engine (Firestore and Storage clients, PGlite, fastify, the scheduler): importing all
 * of them cost ~0.9 s of CPU on every start, so only the command being run is loaded
 * (see commandsFor).
 */
const COMMANDS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['backup', async () => (await import('./commands/backup.js')).registerBackup],
  ['list', async () => (await import('./commands/list.js')).registerList],
  ['verify', async () => (await import('./commands/verify.js')).registerVerify],
  ['check', async () => (await import('./commands/check.js')).registerCheck],
  ['inspect', async () => (await import('./commands/inspect.js')).registerInspect],
  ['restore', async () => (await import('./commands/restore.js')).registerRestore],
  ['delete', async () => (await import('./commands/delete.js')).registerDelete],
  ['keys', async () => (await import('./commands/keys.js')).registerKeys],
  ['schedule', async () => (await import('./commands/schedule.js')).registerSchedule],
  ['daemon', async () => (await import('./commands/daemon.js')).registerDaemon],
  ['prune', async () => (await import('./commands/prune.js')).registerPrune],
  ['history', async () => (await import('./commands/history.js')).registerHistory],
  ['catalog', async () => (await import('./commands/catalog.js')).registerCatalog],
  ['ui', async () => (await import('./commands/ui.js')).registerUi],
  ['server', async () => (await import('./commands/server.js')).registerServer],
  ['audit', async () => (await import('./commands/audit.js')).registerAudit],
  ['login', async () => (await import('./commands/login.js')).registerLogin],
  ['logout', async () => (await import('./commands/logout.js')).registerLogout],
  ['whoami', async () => (await import('./commands/whoami.js')).registerWhoami],
  ['queue', async () => (await import('./commands/queue.js')).registerQueue],
];

/**
 * The commands `argv` needs registered. The program has no options of its own besides
 * --version and --help, so the first argument decides: a command name needs only that
 * command (commander dispatches on it and never looks at the others), --version needs
 * none, and anything else (top-level help, no command, a typo to suggest a fix for, an
 * unknown option) needs them all, so commander answers exactly as before.
 */
export function commandsFor(argv: readonly string[]): string[] {
  const first = argv[2];
  if (first === '--version' || first === '-V') return [];
  const named = COMMANDS.find(([name]) => name === first);
  return named ? [named[0]] : COMMANDS.map(([name]) => name);
}

/**
 * Builds the `firebackup` command tree with the commands `argv` needs (all by default);
 * `done` receives the exit code of the command run.
 */
export async function buildProgram(
  io: CliIO,
  done: (code: number) => void,
  argv?: readonly string[],
): Promise<Command> {
  const program = new Command('firebackup')
    .description(
      'Encrypted backups of Firebase projects: back up, list, verify, inspect and restore.',
    )
    .version(APP_VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  const wanted = new Set(argv ? commandsFor(argv) : COMMANDS.map(([name]) => name));
  const chosen = COMMANDS.filter(([name]) => wanted.has(name));
  // Loaded together, registered in table order (help lists commands in that order).
  const registers = await Promise.all(chosen.map(([, load]) => load()));
  for (const register of registers) register(program, io, done);
  addHelpExamples(program);
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and resolves to the process exit code. */
export async function main(
  argv: string[],
  io: CliIO = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    exit: (code) => process.exit(code),
  },
): Promise<number> {
  let code = 0;
  if (io.stdout === process.stdout) endQuietlyOnBrokenPipe();
  try {
    const program = await buildProgram(
      io,
      (c) => {
        code = c;
      },
      argv,
    );
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander (on
      // stderr), and programs asking for --json get them as JSON too.
      if (error.exitCode === 0) return 0;
      if (argv.includes('--json')) {
        const message = error.message.replace(/^error: /, '');
        const data = toErrorData(
          new AppError('INVALID_ARGUMENT', `${message}. Run with --help for usage.`),
        );
        io.stdout.write(`${JSON.stringify({ ok: false, error: data }, null, 2)}\n`);
      }
      return 2;
    }
    io.stderr.write(`Error: ${toErrorData(error).message}\n`);
    return exitCodeFor(error);
  }
}

/**
 * `firebackup list | head` closes the pipe early: the rest of the output has nowhere to
 * go, which is not an error worth a stack trace. End quietly, as Unix tools do.
 */
function endQuietlyOnBrokenPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
  }
}
