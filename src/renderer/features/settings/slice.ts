import type { ErrorData } from '../../../shared/errors.js';
import { DEFAULT_SETTINGS, type Settings, type SettingsPatch } from '../../../shared/settings.js';
import { callInto, type SliceCreator } from '../../store/slice.js';

export interface SettingsSlice {
  value: Settings;
  loaded: boolean;
  saving: boolean;
  error: ErrorData | null;
  load(): Promise<void>;
  /** Saves a change; the screen shows the saved value (or the error) afterwards. */
  update(patch: SettingsPatch): Promise<boolean>;
  /** The outcome of the last catalog move, for the screen to say where it went. */
  catalogMove: { file: string; copied: boolean; keptAs: string | null } | null;
  /**
   * Moves the catalog to `folder` (null: the default), or with `useExisting` opens the
   * catalog that folder already holds. Refusals (a job running, a folder that cannot be
   * written or holds another catalog) land in `error` with nothing changed.
   */
  moveCatalog(folder: string | null, useExisting?: boolean): Promise<boolean>;
}

export const settingsSlice: SliceCreator<SettingsSlice> = ({ client, set }) => {
  const onError = (error: ErrorData) => set({ error, saving: false });
  const slice: SettingsSlice = {
    value: DEFAULT_SETTINGS,
    loaded: false,
    saving: false,
    error: null,
    async load() {
      const value = await callInto(client, 'settings.get', {}, onError);
      if (value) set({ value, loaded: true, error: null });
    },
    async update(patch) {
      set({ saving: true, error: null });
      const value = await callInto(client, 'settings.update', patch, onError);
      if (!value) return false;
      set({ value, saving: false });
      return true;
    },
    catalogMove: null,
    async moveCatalog(folder, useExisting = false) {
      set({ saving: true, error: null, catalogMove: null });
      const moved = await callInto(
        client,
        'settings.moveCatalog',
        { folder, useExisting },
        onError,
      );
      if (!moved) return false;
      set({ catalogMove: moved, saving: false });
      await slice.load();
      return true;
    },
  };
  return slice;
};
