import { Writable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  json<T = Record<string, unknown>>(): T;
}

function sink(): { stream: Writable; text: () => string } {
  const parts: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      parts.push(Buffer.from(chunk));
      cb();
    },
  });
  return { stream, text: () => Buffer.concat(parts).toString('utf8') };
}

/** Runs the real CLI in-process with its own streams and environment. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const out = sink();
  const err = sink();
  const code = await main(['node', 'firebackup', ...args], {
    stdout: out.stream,
    stderr: err.stream,
    env: { PATH: process.env.PATH, ...env },
  });
  const stdout = out.text();
  return {
    code,
    stdout,
    stderr: err.text(),
    json: <T>() => JSON.parse(stdout) as T,
  };
}
