import type { Command } from 'commander';
import { AppError, exitCodeFor, toErrorData } from '../shared/errors.js';
import { loadKeyring } from '../engine/keys/keyring.js';
import type { Keyring } from '../engine/keys/keyring.js';
import type { OpenFirestoreOptions } from '../engine/sources/firestore/connection.js';
import type { OperationContext } from '../engine/operations/types.js';
import { createOutput, type Output } from './output.js';

/** What commands get from the process: streams and environment, injectable for tests. */
export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  /**
   * Ends the process (the real CLI passes process.exit; in-process tests do not). Used
   * only after Ctrl-C, as a last resort, if something still keeps the process alive once
   * the command has cleaned up.
   */
  exit?: (code: number) => void;
}

/** After Ctrl-C, how long cleanup may take, and how long after it the process may linger. */
const CANCEL_LIMIT_MS = 15_000;
const LINGER_MS = 2_000;

export interface CommonFlags {
  json?: boolean;
  quiet?: boolean;
  keyFile?: string;
  keyStore?: string;
}

/**
 * Runs a command body with one error policy: a clear message on stderr (and the error as
 * JSON on stdout with --json), the exit code the error's kind calls for, Ctrl-C turned
 * into a clean cancellation, and never a stack trace or a secret.
 */
export async function runCommand(
  io: CliIO,
  flags: CommonFlags,
  body: (run: {
    out: Output;
    signal: AbortSignal;
    ctx: OperationContext;
  }) => Promise<number | void>,
  options: {
    /** False for commands that bound their own shutdown (the daemon's --grace). */
    cancelLimit?: boolean;
  } = {},
): Promise<number> {
  const out = createOutput({
    json: flags.json,
    quiet: flags.quiet,
    stdout: io.stdout,
    stderr: io.stderr,
  });
  const controller = new AbortController();
  // Unref'd: a process with nothing left to do ends on its own, sooner.
  const exitLater = (ms: number, code: number, note?: string): void => {
    const exit = io.exit;
    if (!exit) return;
    setTimeout(() => {
      if (note) io.stderr.write(note);
      exit(code);
    }, ms).unref();
  };
  const onSignal = (): void => {
    if (controller.signal.aborted) return io.exit?.(130); // a second Ctrl-C: stop now
    controller.abort();
    if (options.cancelLimit === false) return;
    exitLater(
      CANCEL_LIMIT_MS,
      130,
      `Error: cleanup did not finish within ${CANCEL_LIMIT_MS / 1000} s; stopping anyway.\n`,
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let code = 1;
  try {
    const ctx: OperationContext = {
      signal: controller.signal,
      onProgress: (p) => out.progress(p),
      onNotice: (line) => out.info(`Note: ${line}`),
    };
    code = (await body({ out, signal: controller.signal, ctx })) ?? 0;
    return code;
  } catch (error) {
    out.endProgress();
    const data = toErrorData(error);
    io.stderr.write(`Error: ${data.message}\n`);
    if (flags.json) io.stdout.write(`${JSON.stringify({ ok: false, error: data }, null, 2)}\n`);
    code = exitCodeFor(error);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (controller.signal.aborted) exitLater(LINGER_MS, code);
  }
}

export function addCommonFlags(command: Command): Command {
  return command
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress or messages on stderr');
}

export function addKeyFlags(command: Command): Command {
  return command
    .option(
      '--key-file <file>',
      'file holding the 64-hex-character encryption key (default: $ENCRYPTION_KEY); older keys in $ENCRYPTION_OLD_KEYS',
    )
    .option(
      '--key-store <file>',
      'the key store (made by `keys rotate`); when it exists its current key is used (default: $FIREBACKUP_KEY_STORE or keys.json in $FIREBACKUP_HOME)',
    );
}

export function keyringFor(io: CliIO, flags: CommonFlags): Promise<Keyring> {
  return loadKeyring({
    env: io.env,
    ...(flags.keyFile ? { keyFile: flags.keyFile } : {}),
    ...(flags.keyStore ? { keyStore: flags.keyStore } : {}),
  });
}

export interface SourceFlags {
  project?: string;
  database?: string;
  emulator?: string;
  credentials?: string;
}

export function addSourceFlags(command: Command, projectFlag = '--project <id>'): Command {
  return command
    .option(projectFlag, 'Firebase project id (default: $GOOGLE_CLOUD_PROJECT)')
    .option('--database <id>', 'Firestore database id', '(default)')
    .option(
      '--emulator <host:port>',
      'use a Firestore emulator (default: $FIRESTORE_EMULATOR_HOST)',
    )
    .option(
      '--credentials <file>',
      'service-account JSON key file (default: $GOOGLE_APPLICATION_CREDENTIALS)',
    );
}

/** Connection options from flags, falling back to the standard Google environment. */
export function sourceOptions(
  io: CliIO,
  flags: SourceFlags,
  project: string | undefined,
): OpenFirestoreOptions {
  const projectId = project ?? io.env.GOOGLE_CLOUD_PROJECT ?? io.env.GCLOUD_PROJECT;
  if (!projectId) {
    throw new AppError(
      'INVALID_ARGUMENT',
      'Which project? Pass --project <id> (the id shown in the Firebase console).',
    );
  }
  const emulatorHost =
    flags.emulator ?? (flags.credentials ? undefined : io.env.FIRESTORE_EMULATOR_HOST);
  const credentialsFile =
    flags.credentials ?? (emulatorHost ? undefined : io.env.GOOGLE_APPLICATION_CREDENTIALS);
  return {
    projectId,
    databaseId: flags.database ?? '(default)',
    ...(emulatorHost ? { emulatorHost } : {}),
    ...(credentialsFile ? { credentialsFile } : {}),
  };
}

/** Splits "a,b , c" into ["a","b","c"]; repeated flags are joined too. */
export function listFlag(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

export function parseQuality(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 11) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `--compression-level must be a whole number from 0 to 11 (got "${value}").`,
    );
  }
  return n;
}
