import type { z } from 'zod';
import type { HistoryRunSchema } from '../../../shared/api/methods/history.js';
import type { JobKind, RunStatus } from '../../../shared/jobs.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

export type HistoryRun = z.infer<typeof HistoryRunSchema>;

export interface HistoryFilter {
  kind?: JobKind;
  status?: RunStatus;
  projectId?: string;
}

export interface HistorySlice {
  runs: Loadable<HistoryRun[]>;
  filter: HistoryFilter;
  /** The run a route opened (a notification's click), shown above the list. */
  focused: Loadable<HistoryRun | null>;
  /** Opens one run's detail, clearing the filter so the list shows it too. */
  focus(runId: string): Promise<void>;
  setFilter(patch: HistoryFilter): Promise<void>;
  load(): Promise<void>;
}

/** The filter after a change: an emptied field stops filtering. */
export function nextFilter(filter: HistoryFilter, patch: HistoryFilter): HistoryFilter {
  const next: Record<string, unknown> = { ...filter };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined || v === '') delete next[k];
    else next[k] = v;
  }
  return next as HistoryFilter;
}

export const historySlice: SliceCreator<HistorySlice> = ({ client, get, set }) => {
  const slice: HistorySlice = {
    runs: loadable([]),
    filter: {},
    focused: loadable(null),
    async focus(runId) {
      set({ focused: { value: null, loading: true, error: null }, filter: {} });
      const [value] = await Promise.all([
        callInto(client, 'history.run', { runId }, (error) =>
          set({ focused: { value: null, loading: false, error } }),
        ),
        slice.load(),
      ]);
      if (value) set({ focused: { value, loading: false, error: null } });
    },
    async setFilter(patch) {
      set({ filter: nextFilter(get().filter, patch) });
      await slice.load();
    },
    async load() {
      set({ runs: { ...get().runs, loading: true, error: null } });
      const value = await callInto(
        client,
        'history.runs',
        { ...get().filter, limit: 500 },
        (error) => set({ runs: { ...get().runs, loading: false, error } }),
      );
      if (value) set({ runs: { value, loading: false, error: null } });
    },
  };
  return slice;
};
