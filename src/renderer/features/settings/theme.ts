import type { Theme } from '../../../shared/settings.js';

/** The theme to paint: the setting, or the OS's preference when it says 'system'. */
export function resolveTheme(setting: Theme, prefersDark: boolean): 'light' | 'dark' {
  if (setting === 'system') return prefersDark ? 'dark' : 'light';
  return setting;
}

/**
 * Keeps `<html data-theme>` in step with the setting and, for 'system', with the OS
 * (prefers-color-scheme changes while the app is open). Returns the unsubscribe.
 */
export function applyTheme(win: Window, setting: Theme): () => void {
  const query = win.matchMedia('(prefers-color-scheme: dark)');
  const paint = () => {
    win.document.documentElement.dataset.theme = resolveTheme(setting, query.matches);
  };
  paint();
  query.addEventListener('change', paint);
  return () => query.removeEventListener('change', paint);
}
