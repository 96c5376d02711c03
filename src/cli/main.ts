import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../engine/version.js';
import { AppError, toErrorData, exitCodeFor } from '../shared/errors.js';
import { registerBackup } from './commands/backup.js';
import { registerCatalog } from './commands/catalog.js';
import { registerCheck } from './commands/check.js';
import { registerDaemon } from './commands/daemon.js';
import { registerDelete } from './commands/delete.js';
import { registerHistory } from './commands/history.js';
import { registerPrune } from './commands/prune.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServer } from './commands/server.js';
import { registerInspect } from './commands/inspect.js';
import { registerKeys } from './commands/keys.js';
import { registerList } from './commands/list.js';
import { registerRestore } from './commands/restore.js';
import { registerUi } from './commands/ui.js';
import { registerVerify } from './commands/verify.js';
import type { CliIO } from './context.js';

/** Builds the `firebackup` command tree; `done` receives the exit code of the command run. */
export function buildProgram(io: CliIO, done: (code: number) => void): Command {
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
  for (const register of [
    registerBackup,
    registerList,
    registerVerify,
    registerCheck,
    registerInspect,
    registerRestore,
    registerDelete,
    registerKeys,
    registerSchedule,
    registerDaemon,
    registerPrune,
    registerHistory,
    registerCatalog,
    registerUi,
    registerServer,
  ]) {
    register(program, io, done);
  }
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
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
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
