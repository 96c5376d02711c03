import { useEffect, useRef } from 'react';
import { SCREENS } from './screens.js';
import { useApp } from './store/index.js';
import { SCREEN_IDS } from './store/nav.js';
import { applyTheme } from './features/settings/theme.js';

/** The shell: skip link, main navigation, and the current screen under its <h1>. */
export function App({ mode }: { mode: 'electron' | 'web' }) {
  const screen = useApp((s) => s.nav.screen);
  const go = useApp((s) => s.nav.go);
  const theme = useApp((s) => s.settings.value.theme);
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);

  useEffect(() => applyTheme(window, theme), [theme]);
  // After navigating, move focus to the new screen's heading so keyboard and screen
  // reader users land on it (not on the first render: the page starts at the top anyway).
  useEffect(() => {
    if (first.current) first.current = false;
    else heading.current?.focus();
  }, [screen]);

  const entry = SCREENS[screen];
  const Screen = entry.component;
  return (
    <div className="shell" data-mode={mode}>
      <a className="skip-link" href="#screen">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Main">
        <p className="brand">FireBackup</p>
        <ul>
          {SCREEN_IDS.filter((id) => SCREENS[id].nav !== false).map((id) => (
            <li key={id}>
              <button
                type="button"
                className="nav-item"
                aria-current={id === screen ? 'page' : undefined}
                onClick={() => go(id)}
              >
                {SCREENS[id].title}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main id="screen" className="screen" aria-labelledby="screen-title">
        <h1 id="screen-title" tabIndex={-1} ref={heading}>
          {entry.title}
        </h1>
        <Screen />
      </main>
    </div>
  );
}
