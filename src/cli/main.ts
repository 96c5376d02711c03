import { Command, CommanderError } from 'commander';
import { APP_VERSION } from '../engine/version.js';
import { toErrorData, exitCodeFor } from '../shared/errors.js';
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
    registerServer,
  ]) {
    register(program, io, done);
  }
  return program;
}

/** Runs the CLI with `argv` (as process.argv) and resolves to the process exit code. */
export async function main(
  argv: string[],
  io: CliIO = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return error.exitCode === 0 ? 0 : 2;
    }
    io.stderr.write(`Error: ${toErrorData(error).message}\n`);
    return exitCodeFor(error);
  }
}
