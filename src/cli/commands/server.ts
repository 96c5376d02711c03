import type { Command } from 'commander';
import { startServer } from '../../server/start.js';
import type { CliIO } from '../context.js';
import { exitCodeFor, toErrorData } from '../../shared/errors.js';

/**
 * `firebackup server`: the organisation server of team sync mode, configured from the
 * environment (docs/server.md). Runs in the foreground until SIGTERM or Ctrl-C.
 */
export function registerServer(program: Command, io: CliIO, done: (code: number) => void): void {
  program
    .command('server')
    .description(
      'run the organisation server for team sync mode (configured by environment variables, see docs/server.md)',
    )
    .action(async () => {
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        await startServer(io.env, (line) => io.stderr.write(`${line}\n`), stop.signal);
        done(0);
      } catch (error) {
        io.stderr.write(`Error: ${toErrorData(error).message}\n`);
        done(exitCodeFor(error));
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}
