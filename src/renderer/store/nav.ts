import type { SliceCreator } from './slice.js';

/** Every screen of the app, in the order the navigation lists them (first-run is not listed). */
export const SCREEN_IDS = [
  'dashboard',
  'backups',
  'restore',
  'schedules',
  'history',
  'projects',
  'destinations',
  'keys',
  'settings',
  'team',
  'first-run',
] as const;
export type ScreenId = (typeof SCREEN_IDS)[number];

export interface NavSlice {
  screen: ScreenId;
  /** How this window reaches the engine (set once at start). */
  mode: 'electron' | 'web';
  go(screen: ScreenId): void;
  setMode(mode: 'electron' | 'web'): void;
}

export const navSlice: SliceCreator<NavSlice> = ({ set }) => ({
  screen: 'dashboard',
  mode: 'web',
  go: (screen) => set({ screen }),
  setMode: (mode) => set({ mode }),
});
