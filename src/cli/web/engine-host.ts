import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EventName } from '../../shared/api/contract.js';
import type { Result } from '../../shared/api/dispatch.js';
import type { Dispatch, EventSource } from '../../shared/api/memory-transport.js';
import { AppError, toErrorData } from '../../shared/errors.js';
import type { EngineChildOptions, FromEngine, ToEngine } from './engine-protocol.js';

/**
 * The engine of `firebackup ui` in a child process, seen from the server as the same
 * dispatcher and event source it would get in-process. Measured reason: with the runtime
 * on the server's event loop, a backup's CPU work delayed contract round trips past
 * 50 ms p99 (docs/benchmarks.md); in its own process the server stays free to answer.
 */
export interface EngineHost {
  dispatch: Dispatch;
  events: EventSource;
  /** Cancels running jobs cleanly and waits for the engine to exit (false: timed out). */
  stop(reason: string, timeoutMs: number): Promise<boolean>;
}

export async function startEngineHost(
  options: EngineChildOptions,
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
): Promise<EngineHost> {
  // Under tsx (tests, bench) the sources are .ts; once built, .js beside this file.
  const entry = new URL(
    import.meta.url.endsWith('.ts') ? './engine-child.ts' : './engine-child.js',
    import.meta.url,
  );
  const child: ChildProcess = fork(fileURLToPath(entry), [JSON.stringify(options)], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const pending = new Map<number, (result: Result<unknown>) => void>();
  const listeners = new Map<EventName, Set<(payload: unknown) => void>>();
  let nextId = 1;
  let exited = false;
  const post = (message: ToEngine): void => {
    if (!exited && child.connected) child.send(message);
  };

  const gone = toErrorData(
    new AppError(
      'UNAVAILABLE',
      'The FireBackup engine process stopped. Restart "firebackup ui" and try again.',
    ),
  );
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: FromEngine) => {
      switch (message.type) {
        case 'ready':
          return resolve();
        case 'failed':
          return reject(new AppError(message.error.code, message.error.message));
        case 'result':
          pending.get(message.id)?.(message.result);
          pending.delete(message.id);
          return;
        case 'event':
          for (const listener of listeners.get(message.event) ?? []) listener(message.payload);
          return;
        case 'log':
          return log(message.message);
        case 'stopped':
          return; // the exit follows
      }
    });
    child.once('exit', (code) => {
      exited = true;
      for (const answer of pending.values()) answer({ ok: false, error: gone });
      pending.clear();
      reject(new AppError('INTERNAL', `The FireBackup engine process exited (code ${code}).`));
    });
  });
  await ready;

  return {
    dispatch: (method, input) =>
      exited
        ? Promise.resolve({ ok: false, error: gone })
        : new Promise((resolve) => {
            const id = nextId++;
            pending.set(id, resolve);
            post({ type: 'call', id, method, input });
          }),
    events: {
      subscribe(event, listener) {
        let set = listeners.get(event);
        if (!set) {
          set = new Set();
          listeners.set(event, set);
          post({ type: 'subscribe', event });
        }
        const mine = set;
        mine.add(listener);
        return () => {
          mine.delete(listener);
          if (mine.size === 0 && listeners.get(event) === mine) {
            listeners.delete(event);
            post({ type: 'unsubscribe', event });
          }
        };
      },
    },
    stop: (reason, timeoutMs) =>
      new Promise<boolean>((resolve) => {
        if (exited) return resolve(true);
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve(false);
        }, timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve(true);
        });
        post({ type: 'stop', reason });
      }),
  };
}
