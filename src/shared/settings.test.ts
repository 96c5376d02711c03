import { describe, expect, it } from 'vitest';
import {
  applySettingsPatch,
  DEFAULT_SETTINGS,
  migrateSettings,
  SETTINGS_VERSION,
} from './settings.js';

describe('settings', () => {
  it('fills defaults, and a bad field falls back alone (the other choices stay)', () => {
    expect(migrateSettings(undefined)).toEqual(DEFAULT_SETTINGS);
    expect(migrateSettings({ version: 1, theme: 'purple', startAtLogin: true, extra: 1 })).toEqual({
      ...DEFAULT_SETTINGS,
      startAtLogin: true,
    });
  });

  it('refuses a file written by a newer version instead of overwriting it with fewer fields', () => {
    expect(() => migrateSettings({ version: SETTINGS_VERSION + 1 })).toThrow(/newer FireBackup/);
  });

  it('merges notification flags instead of replacing them', () => {
    const next = applySettingsPatch(DEFAULT_SETTINGS, { notifications: { missedRuns: false } });
    expect(next.notifications).toEqual({ failedRuns: true, missedRuns: false, keyProblems: true });
    expect(applySettingsPatch(next, { catalogPath: null }).catalogPath).toBeNull();
  });
});
