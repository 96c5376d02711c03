import type { Command } from 'commander';
import { followCatalogMoves } from '../../engine/jobs/follow-catalog.js';
import { AppError } from '../../shared/errors.js';
import type { JobEvent } from '../../shared/jobs.js';
import {
  addCommonFlags,
  addKeyFlags,
  runCommand,
  type CliIO,
  type CommonFlags,
} from '../context.js';
import { finishOrCancelJobs } from '../../engine/jobs/shutdown.js';
import { rotationImpossibleMessage } from '../../engine/keys/rotation.js';
import { scheduledRotation } from './keys-rotate.js';
import { openRuntime, runSummary } from './schedule.js';

interface DaemonFlags extends CommonFlags {
  grace: number;
  cancelTimeout: number;
}

function seconds(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0)
      throw new AppError('INVALID_ARGUMENT', `${flag} takes a number of seconds (got "${value}").`);
    return n;
  };
}

/**
 * `firebackup daemon`: runs the schedules in the foreground on a headless machine
 * (systemd, a container, a CI runner). On SIGTERM/SIGINT it stops starting runs, lets
 * the current ones finish for up to --grace seconds, then cancels them cleanly (nothing
 * partial is kept) and exits within --cancel-timeout more seconds. A second signal
 * stops at once.
 */
export function registerDaemon(program: Command, io: CliIO, done: (code: number) => void): void {
  const command = program
    .command('daemon')
    .description('run the schedules in the foreground (for servers); stop with SIGTERM or Ctrl-C')
    .option(
      '--grace <seconds>',
      'on stop, let running jobs finish for this long before cancelling them',
      seconds('--grace'),
      60,
    )
    .option(
      '--cancel-timeout <seconds>',
      'after cancelling, wait at most this long for jobs to clean up',
      seconds('--cancel-timeout'),
      30,
    );
  addKeyFlags(command);
  addCommonFlags(command).action(async (flags: DaemonFlags) => {
    done(
      await runCommand(
        io,
        flags,
        async ({ out, signal }) => {
          const log = (line: string): void => out.info(`${new Date().toISOString()} ${line}`);
          const runtime = await openRuntime(io, flags, { ...out, info: log });
          try {
            const { scheduler, jobs, catalog } = runtime;
            const schedules = catalog.schedules.list().filter((s) => s.enabled);
            if (schedules.length === 0) {
              log(
                'No enabled schedules yet; add one with "firebackup schedule add". Waiting for schedules to appear.',
              );
            }
            jobs.subscribe((e: JobEvent) => {
              if (e.type !== 'state') return;
              if (e.status === 'running')
                log(`job ${e.jobId} (${e.kind}) running, attempt ${e.attempt}`);
              if (['succeeded', 'failed', 'cancelled'].includes(e.status)) {
                const run = catalog.runs.get(e.jobId);
                if (run) log(`job ${e.jobId}: ${runSummary(run)}`);
              }
            });
            if (runtime.keyRotation) log(await runtime.keyRotation.describe());
            else {
              const rotation = scheduledRotation(io, flags);
              if (rotation.enabled) log(rotationImpossibleMessage(rotation.storeFile));
            }
            const caughtUp = await scheduler.start();
            // A catalog moved from the app's Settings is followed without a restart.
            const unfollow = followCatalogMoves(runtime, io.env, log);
            signal.addEventListener('abort', unfollow, { once: true });
            log(
              `FireBackup daemon running ${schedules.length} schedule(s) from ${catalog.db.name}${caughtUp.length ? `; catching up ${caughtUp.length} run(s)` : ''}.`,
            );

            await new Promise<void>((resolve) => {
              if (signal.aborted) resolve();
              signal.addEventListener('abort', () => resolve(), { once: true });
            });

            scheduler.stop();
            const outcome = await finishOrCancelJobs(jobs, {
              graceMs: flags.grace * 1000,
              cancelTimeoutMs: flags.cancelTimeout * 1000,
              reason: 'Cancelled because the daemon is stopping.',
              log,
            });
            if (outcome === 'stuck') return 1;
            log('Stopped.');
            return 0;
          } finally {
            runtime.close();
          }
        },
        { cancelLimit: false },
      ),
    );
  });
}
