import type { Client } from '../../shared/api/client.js';
import type { AppStore } from './index.js';

/**
 * The one module that subscribes to push events, and the one place to say what each event
 * changes in the store. A screen that must react to an event (a list to refresh when a
 * run finishes) adds a line here, calling an action of its slice.
 */
export function subscribeEvents(store: AppStore, client: Client): () => void {
  const unsubscribes = [
    client.subscribe('job', (event) => store.getState().jobs.applyEvent(event)),
    client.subscribe('run.finished', (run) => {
      const state = store.getState();
      state.jobs.applyRun(run);
      // The lists that show runs and backups follow what just finished.
      if (state.nav.screen === 'history') void state.history.load();
      if (state.nav.screen === 'dashboard') void state.dashboard.load();
      if (state.nav.screen === 'backups' && run.kind !== 'restore') {
        void state.backups.load();
        // A verification's verdict shows in the open backup's detail.
        if (run.kind === 'verify') void state.backups.refreshDetail();
      }
    }),
    client.subscribe('schedule.changed', () => store.getState().schedules.applyChange()),
    // Which destinations are set up here decides where a backup can be read from.
    client.subscribe('destination.changed', () =>
      store.getState().backups.applyDestinationChange(),
    ),
  ];
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}
