import type { ErrorData } from '../../../shared/errors.js';
import { DEFAULT_SETTINGS, type Settings, type SettingsPatch } from '../../../shared/settings.js';
import type { SliceCreator } from '../../store/slice.js';

export interface SettingsSlice {
  value: Settings;
  loaded: boolean;
  saving: boolean;
  error: ErrorData | null;
  load(): Promise<void>;
  update(patch: SettingsPatch): Promise<boolean>;
}

export const settingsSlice: SliceCreator<SettingsSlice> = ({ set }) => ({
  value: DEFAULT_SETTINGS,
  loaded: false,
  saving: false,
  error: null,
  // Wired to settings.get/settings.update once those methods exist.
  async load() {
    set({ loaded: true });
  },
  async update(patch) {
    set((s) => ({
      value: {
        ...s.value,
        ...patch,
        notifications: { ...s.value.notifications, ...patch.notifications },
      },
    }));
    return true;
  },
});
