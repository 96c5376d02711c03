import type { SyncState } from '../../../shared/api/methods/sync.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

/** Team sync mode as the catalog screens see it: the mode, the role, how lists were served. */
export interface SyncSlice {
  state: Loadable<SyncState | null>;
  /** Asked after a screen loads its list (the engine records how it served it). */
  load(): Promise<void>;
}

export const syncSlice: SliceCreator<SyncSlice> = ({ client, get, set }) => ({
  state: loadable(null),
  async load() {
    set({ state: { ...get().state, loading: true, error: null } });
    const value = await callInto(client, 'sync.state', {}, (error) =>
      set({ state: { ...get().state, loading: false, error } }),
    );
    if (value) set({ state: { value, loading: false, error: null } });
  },
});
