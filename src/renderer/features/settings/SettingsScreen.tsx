import { useState } from 'react';
import { ThemeSchema, type Settings, type Theme } from '../../../shared/settings.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { Field } from '../../components/Field.js';
import { useApp } from '../../store/index.js';

const THEME_LABELS: Record<Theme, string> = {
  system: 'Follow the system',
  light: 'Light',
  dark: 'Dark',
};

const NOTIFICATION_LABELS: Record<keyof Settings['notifications'], string> = {
  failedRuns: 'A backup, verify or restore failed',
  missedRuns: 'A scheduled run was missed',
  keyProblems: "A key cannot read a destination's backups",
};

/** Each change is saved at once (no Save button to forget); errors show above. */
export function SettingsScreen() {
  const settings = useApp((s) => s.settings.value);
  const error = useApp((s) => s.settings.error);
  const update = useApp((s) => s.settings.update);
  const mode = useApp((s) => s.nav.mode);
  const [catalog, setCatalog] = useState(settings.catalogPath ?? '');
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
      <fieldset>
        <legend>Start</legend>
        <label className="choice">
          <input
            type="checkbox"
            checked={settings.startAtLogin}
            onChange={(e) => void update({ startAtLogin: e.target.checked })}
          />
          Start FireBackup when I log in
        </label>
        {mode === 'web' && (
          <p className="field-hint">Applies to the desktop app; the web mode starts by command.</p>
        )}
      </fieldset>
      <fieldset>
        <legend>Notify me when</legend>
        {(Object.keys(NOTIFICATION_LABELS) as (keyof Settings['notifications'])[]).map((k) => (
          <label key={k} className="choice">
            <input
              type="checkbox"
              checked={settings.notifications[k]}
              onChange={(e) => void update({ notifications: { [k]: e.target.checked } })}
            />
            {NOTIFICATION_LABELS[k]}
          </label>
        ))}
      </fieldset>
      <form
        className="stack"
        aria-label="Catalog location"
        onSubmit={(e) => {
          e.preventDefault();
          void update({ catalogPath: catalog.trim() === '' ? null : catalog.trim() });
        }}
      >
        <Field
          label="Catalog folder"
          hint="Recorded, not applied yet: today every part of FireBackup (app, command line, daemon) finds its catalog through $FIREBACKUP_HOME, the app data folder, so they always share one. To move the catalog, set FIREBACKUP_HOME for all of them."
          value={catalog}
          onChange={(e) => setCatalog(e.target.value)}
        />
        <div className="row">
          <button type="submit">Save catalog folder</button>
        </div>
      </form>
    </div>
  );
}
