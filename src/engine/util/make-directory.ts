import { mkdirSync, statSync, type Stats } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../../shared/errors.js';
import { fromFsError } from './fs-errors.js';

/**
 * `mkdir -p`, one level at a time. Node's recursive mkdir loops forever, at full CPU and
 * deaf to signals, on a path where a folder can never be made (`/proc/x`: the parent
 * exists but refuses with ENOENT); creating each missing level ourselves turns that into
 * one clear error. The logic is written once, as a generator of file-system steps, and
 * run either asynchronously (makeDirectory) or synchronously (makeDirectorySync, for
 * callers that cannot await, such as opening the catalog). `mode` applies to every level
 * made (less the umask).
 */
export async function makeDirectory(dir: string, mode?: number): Promise<void> {
  const steps = makeDirectorySteps(dir, mode);
  for (let next = steps.next(); !next.done;) {
    const step = next.value;
    next = steps.next(
      await ('stat' in step ? stat(step.stat) : mkdir(step.mkdir, modeOption(step))).then(
        (info) => ({ info: info || undefined }),
        (error: unknown) => ({ error }),
      ),
    );
  }
}

/** makeDirectory, synchronously. */
export function makeDirectorySync(dir: string, mode?: number): void {
  const steps = makeDirectorySteps(dir, mode);
  for (let next = steps.next(); !next.done;) {
    const step = next.value;
    let outcome: Outcome;
    try {
      outcome = {
        info:
          'stat' in step
            ? statSync(step.stat)
            : (mkdirSync(step.mkdir, modeOption(step)), undefined),
      };
    } catch (error) {
      outcome = { error };
    }
    next = steps.next(outcome);
  }
}

type Step = { stat: string } | { mkdir: string; mode: number | undefined };

const modeOption = (step: { mode: number | undefined }): { mode: number } | undefined =>
  step.mode === undefined ? undefined : { mode: step.mode };
/** What a step gave: the folder's stats (for stat), or the error it threw. */
type Outcome = { info?: Stats | undefined } | { error: unknown };

function* makeDirectorySteps(
  dir: string,
  mode: number | undefined,
): Generator<Step, void, Outcome> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    const outcome = yield { stat: current };
    if ('error' in outcome) {
      if ((outcome.error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw fromFsError(outcome.error, `Cannot create the folder ${dir}`);
      }
    } else if (outcome.info) {
      if (!outcome.info.isDirectory()) {
        throw new AppError(
          'INVALID_ARGUMENT',
          `Cannot create the folder ${dir}: ${current} is a file, not a folder. Choose another destination.`,
        );
      }
      break;
    }
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const level of missing.reverse()) {
    const outcome = yield { mkdir: level, mode };
    if (!('error' in outcome)) continue;
    const error = outcome.error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') continue; // made meanwhile by someone else: fine
    if (code === 'ENOENT') {
      // The parent is there (made or checked just before) yet refuses a new folder.
      throw new AppError(
        'INVALID_ARGUMENT',
        `Cannot create the folder ${dir}: ${path.dirname(level)} does not accept new folders. Choose another destination.`,
        { cause: error },
      );
    }
    throw fromFsError(error, `Cannot create the folder ${dir}`);
  }
}
