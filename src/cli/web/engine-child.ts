/**
 * The engine process of `firebackup ui` (forked by engine-host.ts): the runtime, the
 * contract's handlers and events, driven over Node's IPC channel. Running the engine
 * here keeps compression, encryption and catalog work off the event loop that answers the
 * browser, so contract calls stay quick while a backup runs.
 */
import { createDispatcher } from '../../shared/api/dispatch.js';
import { toErrorData } from '../../shared/errors.js';
import { createApiEvents } from '../../engine/api/events.js';
import { createApiHandlers } from '../../engine/api/handlers.js';
import { createRuntime } from '../../engine/jobs/runtime.js';
import { loadKeyring } from '../../engine/keys/keyring.js';
import type { EngineChildOptions, FromEngine, ToEngine } from './engine-protocol.js';

const send = (message: FromEngine): void => {
  if (process.connected) process.send!(message);
};

// Ctrl-C reaches the whole process group; the server process decides when we stop (it
// sends 'stop'), so a signal here must not kill jobs half-way.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as EngineChildOptions;
  const keyring = await loadKeyring({
    env: process.env,
    ...(options.keyFile ? { keyFile: options.keyFile } : {}),
    ...(options.keyStore ? { keyStore: options.keyStore } : {}),
  });
  const runtime = createRuntime({
    env: process.env,
    keyring,
    log: (message) => send({ type: 'log', message }),
  });
  const dispatch = createDispatcher(createApiHandlers(runtime, keyring));
  const events = createApiEvents(runtime);
  const subscriptions = new Map<string, () => void>();

  /** Cancels running jobs (nothing partial is kept) and closes the catalog, once. */
  let stopping: Promise<number> | undefined;
  const shutdown = (reason: string): Promise<number> =>
    (stopping ??= (async () => {
      const active = runtime.jobs.active().length;
      if (active > 0) {
        send({
          type: 'log',
          message: `Stopping: cancelling ${active} job(s); nothing partial will be kept.`,
        });
      }
      await runtime.jobs.cancelAll(reason);
      runtime.close();
      return active;
    })());

  process.on('message', (message: ToEngine) => {
    switch (message.type) {
      case 'call':
        void dispatch(message.method, message.input, { kind: 'local' }).then((result) =>
          send({ type: 'result', id: message.id, result }),
        );
        break;
      case 'subscribe':
        if (!subscriptions.has(message.event))
          subscriptions.set(
            message.event,
            events.subscribe(message.event, (payload) =>
              send({ type: 'event', event: message.event, payload }),
            ),
          );
        break;
      case 'unsubscribe':
        subscriptions.get(message.event)?.();
        subscriptions.delete(message.event);
        break;
      case 'stop':
        void shutdown(message.reason).then((cancelled) => {
          send({ type: 'stopped', cancelled });
          process.disconnect();
        });
        break;
    }
  });
  // Also when the server process died without saying stop.
  process.on('disconnect', () => {
    void shutdown('Cancelled because firebackup ui stopped.').then(() => process.exit(0));
  });
  send({ type: 'ready' });
}

main().catch((error: unknown) => {
  send({ type: 'failed', error: toErrorData(error) });
  process.disconnect();
});
