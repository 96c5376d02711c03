import type { KeysOverview } from '../../../shared/api/methods/keys.js';
import type { ErrorData } from '../../../shared/errors.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

export interface KeysSlice {
  overview: Loadable<KeysOverview | null>;
  actionError: ErrorData | null;
  /** Set once a recovery kit was handed over in this session (first run asks for it). */
  kitSavedAt: string | null;
  load(): Promise<void>;
  generate(): Promise<string | undefined>;
  importKey(key: string): Promise<{ keyId: string; current: boolean } | undefined>;
  rotate(): Promise<string | undefined>;
  /** The kit's file name and text; the screen turns it into a download. */
  recoveryKit(): Promise<{ fileName: string; text: string } | undefined>;
  clearError(): void;
}

export const keysSlice: SliceCreator<KeysSlice> = ({ client, get, set }) => {
  const actionFailed = (error: ErrorData) => set({ actionError: error });
  const slice: KeysSlice = {
    overview: loadable(null),
    actionError: null,
    kitSavedAt: null,
    async load() {
      set({ overview: { ...get().overview, loading: true, error: null } });
      const value = await callInto(client, 'keys.list', {}, (error) =>
        set({ overview: { ...get().overview, loading: false, error } }),
      );
      if (value) set({ overview: { value, loading: false, error: null } });
    },
    async generate() {
      set({ actionError: null });
      const made = await callInto(client, 'keys.generate', {}, actionFailed);
      if (made) await slice.load();
      return made?.keyId;
    },
    async importKey(key) {
      set({ actionError: null });
      const imported = await callInto(client, 'keys.import', { key }, actionFailed);
      if (imported) await slice.load();
      return imported;
    },
    async rotate() {
      set({ actionError: null });
      const rotated = await callInto(client, 'keys.rotate', {}, actionFailed);
      if (rotated) await slice.load();
      return rotated?.keyId;
    },
    async recoveryKit() {
      set({ actionError: null });
      const kit = await callInto(client, 'keys.recoveryKit', {}, actionFailed);
      if (kit) set({ kitSavedAt: new Date().toISOString() });
      return kit;
    },
    clearError: () => set({ actionError: null }),
  };
  return slice;
};
