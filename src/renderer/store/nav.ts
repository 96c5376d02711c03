import { parseAppRoute } from '../../shared/routes.js';
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

const isScreen = (s: string): s is ScreenId => (SCREEN_IDS as readonly string[]).includes(s);

export interface NavSlice {
  screen: ScreenId;
  /** The route's parameters (`destination` on Keys); cleared by plain navigation. */
  params: Record<string, string>;
  /** How this window reaches the engine (set once at start). */
  mode: 'electron' | 'web';
  /**
   * Counts navigations, including to the screen already showing: work that finishes
   * later (the first-run check) can tell that the person chose a screen meanwhile.
   */
  moves: number;
  go(screen: ScreenId): void;
  /**
   * Opens a route from the URL fragment (`#/history?run=<id>`: a notification's click, see
   * src/shared/routes.ts) on the item it names; a fragment that is no route changes nothing.
   */
  openRoute(fragment: string): Promise<void>;
  setMode(mode: 'electron' | 'web'): void;
}

export const navSlice: SliceCreator<NavSlice> = ({ set, root }) => ({
  screen: 'dashboard',
  params: {},
  mode: 'web',
  moves: 0,
  go: (screen) => set({ screen, params: {}, moves: root().nav.moves + 1 }),
  async openRoute(fragment) {
    const route = parseAppRoute(fragment);
    if (!route || !isScreen(route.screen)) return;
    const { screen, params } = route;
    set({ screen, params, moves: root().nav.moves + 1 });
    // The screen's item is opened here, not by the screen, so it also happens when that
    // screen is already showing (a second notification for another run).
    const app = root();
    if (screen === 'history' && params.run) await app.history.focus(params.run);
    if (screen === 'backups' && params.destination && params.backup)
      await app.backups.select({ destinationId: params.destination, backupId: params.backup });
  },
  setMode: (mode) => set({ mode }),
});
