import path from 'node:path';
import { createClient } from '../../src/shared/api/client.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { createMemoryTransport } from '../../src/shared/api/memory-transport.js';
import { createApiEvents } from '../../src/engine/api/events.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import type { Runtime } from '../../src/engine/jobs/runtime.js';
import { KeyStore } from '../../src/engine/keys/key-store.js';
import type { Keyring } from '../../src/engine/keys/keyring.js';
import { ConfSettingsStore } from '../../src/engine/settings/settings-store.js';
import { createAppStore, type AppStore } from '../../src/renderer/store/index.js';
import { subscribeEvents } from '../../src/renderer/store/events.js';

/**
 * The renderer's store as the app builds it, over a real runtime through the in-memory
 * transport (dispatcher, handlers, push events): what the screens do, without a browser.
 * The key store and settings live in `dir`. `stop()` ends the event subscription.
 */
export async function rendererStore(
  runtime: Runtime,
  keyring: Keyring,
  dir: string,
): Promise<{ store: AppStore; stop: () => void }> {
  const dispatch = createDispatcher(
    createApiHandlers(runtime, keyring, {
      dataDir: dir,
      keyStore: new KeyStore(path.join(dir, 'keys.json')),
      settings: await ConfSettingsStore.open(dir),
    }),
  );
  const client = createClient(createMemoryTransport(dispatch, createApiEvents(runtime)));
  const store = createAppStore(client);
  return { store, stop: subscribeEvents(store, client) };
}
