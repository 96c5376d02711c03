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
      <CatalogFolder />
    </div>
  );
}

/**
 * The catalog folder: saving moves the catalog there (copied, verified, then used by the
 * app, the command line and the daemon alike). A folder that already holds a catalog is
 * refused, with the offer to open that one instead.
 */
function CatalogFolder() {
  const saved = useApp((s) => s.settings.value.catalogPath);
  const error = useApp((s) => s.settings.error);
  const saving = useApp((s) => s.settings.saving);
  const moved = useApp((s) => s.settings.catalogMove);
  const moveCatalog = useApp((s) => s.settings.moveCatalog);
  const [folder, setFolder] = useState(saved ?? '');
  const chosen = folder.trim() === '' ? null : folder.trim();
  return (
    <form
      className="stack"
      aria-label="Catalog location"
      onSubmit={(e) => {
        e.preventDefault();
        void moveCatalog(chosen);
      }}
    >
      <Field
        label="Catalog folder"
        hint="Empty: the app data folder. Saving moves the catalog there: it is copied and checked first, then the app, the command line and the daemon all use it; the old file is kept beside, renamed. Not while a job runs."
        value={folder}
        onChange={(e) => setFolder(e.target.value)}
      />
      {error?.code === 'ALREADY_EXISTS' && (
        <button type="button" onClick={() => void moveCatalog(chosen, true)}>
          Open the catalog in that folder instead
        </button>
      )}
      {moved && (
        <p role="status" className="notice notice-ok">
          {moved.copied
            ? `The catalog is now ${moved.file}.${moved.keptAs ? ` The old file is kept as ${moved.keptAs}.` : ''}`
            : `Using the catalog ${moved.file}.`}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={saving}>
          {saving ? 'Moving…' : 'Move catalog here'}
        </button>
      </div>
    </form>
  );
}
