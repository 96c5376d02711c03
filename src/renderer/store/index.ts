import { useContext, createContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Client } from '../../shared/api/client.js';
import { destinationsSlice, type DestinationsSlice } from '../features/destinations/slice.js';
import { firstRunSlice, type FirstRunSlice } from '../features/first-run/slice.js';
import { keysSlice, type KeysSlice } from '../features/keys/slice.js';
import { projectsSlice, type ProjectsSlice } from '../features/projects/slice.js';
import { settingsSlice, type SettingsSlice } from '../features/settings/slice.js';
import { backupsSlice, type BackupsSlice } from '../features/backups/slice.js';
import { restoreSlice, type RestoreSlice } from '../features/restore/slice.js';
import { schedulesSlice, type SchedulesSlice } from '../features/schedules/slice.js';
import { historySlice, type HistorySlice } from '../features/history/slice.js';
import { dashboardSlice, type DashboardSlice } from '../features/dashboard/slice.js';
import { backupNowSlice, type BackupNowSlice } from '../features/backup-now/slice.js';
import { teamSlice, type TeamSlice } from '../features/team/slice.js';
import { syncSlice, type SyncSlice } from '../features/sync/slice.js';
import { jobsSlice, type JobsSlice } from './jobs.js';
import { navSlice, type NavSlice } from './nav.js';
import { sliceContext, type SliceCreator } from './slice.js';

/**
 * The one store, built from slices: each key is one slice, created by the function listed
 * in `slices` below. To add a slice: write features/<screen>/slice.ts exporting
 * `fooSlice: SliceCreator<FooSlice>`, then add one line to AppState and one to `slices`.
 */
export interface AppState {
  nav: NavSlice;
  jobs: JobsSlice;
  settings: SettingsSlice;
  projects: ProjectsSlice;
  destinations: DestinationsSlice;
  keys: KeysSlice;
  firstRun: FirstRunSlice;
  backups: BackupsSlice;
  restore: RestoreSlice;
  schedules: SchedulesSlice;
  history: HistorySlice;
  dashboard: DashboardSlice;
  backupNow: BackupNowSlice;
  team: TeamSlice;
  sync: SyncSlice;
}

const slices: { [K in keyof AppState]: SliceCreator<AppState[K]> } = {
  nav: navSlice,
  jobs: jobsSlice,
  settings: settingsSlice,
  projects: projectsSlice,
  destinations: destinationsSlice,
  keys: keysSlice,
  firstRun: firstRunSlice,
  backups: backupsSlice,
  restore: restoreSlice,
  schedules: schedulesSlice,
  history: historySlice,
  dashboard: dashboardSlice,
  backupNow: backupNowSlice,
  team: teamSlice,
  sync: syncSlice,
};

export type AppStore = StoreApi<AppState>;

/** A store over a client (tests pass one over the memory transport and the real engine). */
export function createAppStore(client: Client): AppStore {
  const store = createStore<AppState>()(() => ({}) as AppState);
  const initial = {} as Record<keyof AppState, unknown>;
  for (const key of Object.keys(slices) as (keyof AppState)[]) {
    const create = slices[key] as SliceCreator<unknown>;
    initial[key] = create(sliceContext(store, key, client) as never);
  }
  store.setState(initial as AppState, true);
  return store;
}

export const StoreContext = createContext<AppStore | null>(null);

/**
 * Reads the store through a selector; the component re-renders when the selected value
 * changes. Select a primitive or an existing object (`s => s.projects.list`); a selector
 * that builds a new object or array on every call re-renders forever — wrap it in
 * `useShallow` from 'zustand/react/shallow' instead.
 */
export function useApp<T>(selector: (state: AppState) => T): T {
  const store = useContext(StoreContext);
  if (!store) throw new Error('useApp outside <StoreContext.Provider>');
  return useStore(store, selector);
}
