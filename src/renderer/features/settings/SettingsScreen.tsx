import { ThemeSchema, type Theme } from '../../../shared/settings.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { useApp } from '../../store/index.js';

const THEME_LABELS: Record<Theme, string> = {
  system: 'Follow the system',
  light: 'Light',
  dark: 'Dark',
};

export function SettingsScreen() {
  const settings = useApp((s) => s.settings.value);
  const error = useApp((s) => s.settings.error);
  const update = useApp((s) => s.settings.update);
  return (
    <div className="stack">
      <ErrorNotice error={error} />
      <fieldset>
        <legend>Theme</legend>
        {ThemeSchema.options.map((theme) => (
          <label key={theme} className="choice">
            <input
              type="radio"
              name="theme"
              value={theme}
              checked={settings.theme === theme}
              onChange={() => void update({ theme })}
            />
            {THEME_LABELS[theme]}
          </label>
        ))}
      </fieldset>
    </div>
  );
}
