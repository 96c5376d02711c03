import type { Command } from 'commander';
import { followCatalogMoves } from '../../engine/jobs/follow-catalog.js';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDispatcher } from '../../shared/api/dispatch.js';
import { AppError } from '../../shared/errors.js';
import { createApiEvents } from '../../engine/api/events.js';
import { createApiHandlers } from '../../engine/api/handlers.js';
import { createRuntime } from '../../engine/jobs/runtime.js';
import {
  addCommonFlags,
  addKeyFlags,
  keyringFor,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { openBrowser } from '../web/open-browser.js';
import { startWebServer } from '../web/server.js';

interface UiFlags extends CommonFlags {
  port: number;
  open: boolean;
}

/** How long jobs get to clean up after being cancelled on Ctrl-C before we exit anyway. */
const CANCEL_TIMEOUT_MS = 30_000;

function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new AppError('INVALID_ARGUMENT', `--port takes a port number 0-65535 (got "${value}").`);
  return n;
}

/**
 * The built renderer: dist/renderer in the package (this file sits three folders deep,
 * as src/cli/commands/ui.ts or dist/cli/commands/ui.js); $FIREBACKUP_RENDERER_DIR overrides.
 */
export function rendererDir(env: NodeJS.ProcessEnv): string {
  if (env.FIREBACKUP_RENDERER_DIR) return path.resolve(env.FIREBACKUP_RENDERER_DIR);
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return path.join(root, 'dist', 'renderer');
}

/**
 * `firebackup ui`: the app in a browser, for headless machines and remote desktops. Serves
 * the renderer and the contract on 127.0.0.1 with a per-run token (src/cli/web/server.ts).
 * Schedules keep running where they run today (`firebackup daemon`); this front end runs
 * what the person asks for. Ctrl-C or SIGTERM cancels running jobs cleanly (nothing
 * partial is kept) and exits.
 */
export function registerUi(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('ui')
    .description('open FireBackup in your browser (served on 127.0.0.1 only); stop with Ctrl-C')
    .option('--port <n>', 'port on 127.0.0.1 (0: any free port)', portNumber, 0)
    .option('--no-open', 'do not open a browser; only print the address');
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: UiFlags) => {
    done(
      await runCommand(io, flags, async ({ out, signal }) => {
        const keyring = await keyringFor(io, flags);
        const runtime = createRuntime({ env: io.env, keyring, log: (m) => out.info(m) });
        const unfollow = followCatalogMoves(runtime, io.env, (m) => out.info(m));
        signal.addEventListener('abort', unfollow, { once: true });
        try {
          const server = await startWebServer({
            dispatch: createDispatcher(createApiHandlers(runtime, keyring, { env: io.env })),
            events: createApiEvents(runtime),
            port: flags.port,
            staticDir: rendererDir(io.env),
          });
          // The address carries the token: printed once, on stdout, for this user only.
          io.stdout.write(
            `FireBackup is running at\n\n  ${server.url}\n\nOnly this machine can connect; the address above holds this run's access token. Stop with Ctrl-C.\n`,
          );
          if (flags.open && !(await openBrowser(server.url)))
            out.info('Could not open a browser here: open the address above yourself.');

          await new Promise<void>((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener('abort', () => resolve(), { once: true });
          });
          await server.close();
          const active = runtime.jobs.active();
          if (active.length > 0) {
            out.info(`Stopping: cancelling ${active.length} job(s); nothing partial will be kept.`);
            const stopped = await Promise.race([
              runtime.jobs
                .cancelAll('Cancelled because firebackup ui is stopping.')
                .then(() => true),
              new Promise<false>((r) => setTimeout(() => r(false), CANCEL_TIMEOUT_MS).unref()),
            ]);
            if (!stopped) {
              out.info(
                'Jobs did not stop in time; exiting anyway (their runs are marked failed at next start).',
              );
              return 1;
            }
          }
          out.info('Stopped.');
          return 0;
        } finally {
          runtime.close();
        }
      }),
    );
  });
}
