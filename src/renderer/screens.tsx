import type { ComponentType } from 'react';
import { ComingSoon } from './features/placeholder/ComingSoon.js';
import { SettingsScreen } from './features/settings/SettingsScreen.js';
import { BackupsScreen } from './features/backups/BackupsScreen.js';
import { RestoreScreen } from './features/restore/RestoreScreen.js';
import { SchedulesScreen } from './features/schedules/SchedulesScreen.js';
import { HistoryScreen } from './features/history/HistoryScreen.js';
import { DashboardScreen } from './features/dashboard/DashboardScreen.js';
import type { ScreenId } from './store/nav.js';

/**
 * Every screen: its title (the page's <h1> and the navigation entry) and component.
 * To add a screen: write features/<screen>/<Name>Screen.tsx and point its line here.
 * `nav: false` keeps a screen out of the navigation (reached from elsewhere).
 */
export interface ScreenEntry {
  title: string;
  component: ComponentType;
  nav?: boolean;
}

const soon = (what: string): ComponentType => {
  const Screen = () => <ComingSoon what={what} />;
  return Screen;
};

export const SCREENS: Record<ScreenId, ScreenEntry> = {
  dashboard: { title: 'Dashboard', component: DashboardScreen },
  backups: { title: 'Backups', component: BackupsScreen },
  restore: { title: 'Restore', component: RestoreScreen },
  schedules: { title: 'Schedules', component: SchedulesScreen },
  history: { title: 'History', component: HistoryScreen },
  projects: { title: 'Projects', component: soon('Projects') },
  destinations: { title: 'Destinations', component: soon('Destinations') },
  keys: { title: 'Keys', component: soon('Keys') },
  settings: { title: 'Settings', component: SettingsScreen },
  'first-run': { title: 'Get started', component: soon('The first-run guide'), nav: false },
};
