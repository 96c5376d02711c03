import { describe, expect, it } from 'vitest';
import type { Client } from '../../../shared/api/client.js';
import { createAppStore } from '../../store/index.js';

/**
 * The first-run guide opens only when nobody has moved meanwhile. The catalog's lists can
 * be slow (a busy machine, a team server), and a click on the screen already showing
 * (the Dashboard, where the app starts) changes no screen, so "still on the same screen"
 * cannot tell that the person chose it.
 */
function storeWithSlowLists() {
  let release!: () => void;
  const listed = new Promise<void>((resolve) => (release = resolve));
  const client = {
    async call(method: string) {
      if (method === 'projects.list' || method === 'destinations.list') {
        await listed;
        return { ok: true, value: [] };
      }
      return { ok: false, error: { code: 'INTERNAL', message: `not in this test: ${method}` } };
    },
  } as unknown as Client;
  return { store: createAppStore(client), release };
}

describe('first-run detection', () => {
  it('opens the guide on an empty catalog when nobody moved', async () => {
    const { store, release } = storeWithSlowLists();
    const detected = store.getState().firstRun.detect();
    release();
    expect(await detected).toBe(true);
    expect(store.getState().nav.screen).toBe('first-run');
  });

  it('leaves a person on the screen they clicked while the lists loaded, even the one already showing', async () => {
    const { store, release } = storeWithSlowLists();
    expect(store.getState().nav.screen).toBe('dashboard');
    const detected = store.getState().firstRun.detect();
    store.getState().nav.go('dashboard');
    release();
    expect(await detected).toBe(false);
    expect(store.getState().nav.screen).toBe('dashboard');
  });
});
