import type { ComponentType } from 'react';
import { DestinationsScreen } from './features/destinations/DestinationsScreen.js';
import { FirstRunScreen } from './features/first-run/FirstRunScreen.js';
import { KeysScreen } from './features/keys/KeysScreen.js';
import { ProjectsScreen } from './features/projects/ProjectsScreen.js';
import { SettingsScreen } from './features/settings/SettingsScreen.js';
import { BackupsScreen } from './features/backups/BackupsScreen.js';
import { RestoreScreen } from './features/restore/RestoreScreen.js';
import { SchedulesScreen } from './features/schedules/SchedulesScreen.js';
import { HistoryScreen } from './features/history/HistoryScreen.js';
import { DashboardScreen } from './features/dashboard/DashboardScreen.js';
import { TeamScreen } from './features/team/TeamScreen.js';
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

export const SCREENS: Record<ScreenId, ScreenEntry> = {
  dashboard: { title: 'Dashboard', component: DashboardScreen },
  backups: { title: 'Backups', component: BackupsScreen },
  restore: { title: 'Restore', component: RestoreScreen },
  schedules: { title: 'Schedules', component: SchedulesScreen },
  history: { title: 'History', component: HistoryScreen },
  projects: { title: 'Projects', component: ProjectsScreen },
  destinations: { title: 'Destinations', component: DestinationsScreen },
  keys: { title: 'Keys', component: KeysScreen },
  settings: { title: 'Settings', component: SettingsScreen },
  team: { title: 'Team', component: TeamScreen },
  'first-run': { title: 'Get started', component: FirstRunScreen, nav: false },
};
