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
}

export const settingsSlice: SliceCreator<SettingsSlice> = ({ client, set }) => {
  const onError = (error: ErrorData) => set({ error, saving: false });
  return {
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
  };
};
