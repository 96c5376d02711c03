import { useEffect, useState } from 'react';
import type { KeyView } from '../../../shared/api/methods/keys.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { downloadText, Field } from '../../components/Field.js';
import { CardList, Section } from '../../components/Section.js';
import { useApp } from '../../store/index.js';

/** Said once, plainly, where a key is made (Keys screen and the first-run guide). */
export function LostKeyWarning() {
  return (
    <div className="notice notice-warning" role="note" aria-label="About your key">
      <p>
        <strong>A lost key is lost data.</strong> Every backup is encrypted with your key. Without
        it nobody can read the backups — not you, not FireBackup. Save the recovery kit somewhere
        safe and away from this computer (a password manager, a printed copy).
      </p>
    </div>
  );
}

/** "Download recovery kit": fetches the kit and hands it to the browser as a file. */
export function RecoveryKitButton({ onSaved }: { onSaved?: () => void }) {
  const recoveryKit = useApp((s) => s.keys.recoveryKit);
  return (
    <button
      type="button"
      className="primary"
      onClick={async () => {
        const kit = await recoveryKit();
        if (!kit) return;
        downloadText(kit.fileName, kit.text);
        onSaved?.();
      }}
    >
      Download recovery kit
    </button>
  );
}

export function KeysScreen() {
  const overview = useApp((s) => s.keys.overview);
  const load = useApp((s) => s.keys.load);
  const generate = useApp((s) => s.keys.generate);
  const rotate = useApp((s) => s.keys.rotate);
  const actionError = useApp((s) => s.keys.actionError);
  const clearError = useApp((s) => s.keys.clearError);
  // Opened from a notification: a key could not read this destination's backups.
  const routeDestination = useApp((s) =>
    s.nav.screen === 'keys' ? s.nav.params.destination : undefined,
  );
  const destinations = useApp((s) => s.destinations.list.value);
  const loadDestinations = useApp((s) => s.destinations.load);
  useEffect(() => void load(), [load]);
  useEffect(() => {
    if (routeDestination) void loadDestinations();
  }, [routeDestination, loadDestinations]);
  const o = overview.value;
  const named = destinations.find((d) => d.id === routeDestination)?.name ?? routeDestination;
  const hasKey = o?.keys.some((k) => k.current) ?? false;
  return (
    <div className="stack">
      <ErrorNotice error={overview.error} onRetry={() => void load()} />
      <ErrorNotice error={actionError} onDismiss={clearError} />
      {routeDestination && (
        <p className="notice notice-error" role="alert">
          The keys on this machine cannot read the backups in <strong>{named}</strong>. Import the
          key that wrote them (from its recovery kit) below; the list shows which keys are missing.
        </p>
      )}
      {o && !hasKey && (
        <Section title="Make your key">
          <LostKeyWarning />
          <div className="row">
            <button type="button" className="primary" onClick={() => void generate()}>
              Make a key
            </button>
          </div>
        </Section>
      )}
      {o && hasKey && (
        <Section title="Recovery kit and rotation">
          <p>
            The key store is <code>{o.keyStore.file}</code>. Download a new recovery kit after every
            rotation.
          </p>
          <div className="row">
            <RecoveryKitButton />
            <ConfirmDialog
              trigger={<button type="button">Rotate key</button>}
              title="Make a new current key?"
              confirmLabel="Rotate"
              onConfirm={() => void rotate()}
            >
              <p>
                New backups will use a new key. Older keys are kept to read older backups. Download
                a new recovery kit afterwards.
              </p>
            </ConfirmDialog>
          </div>
        </Section>
      )}
      {o && (
        <Section title="Keys and the backups they read">
          <CardList label="Keys" items={o.keys} empty="No key yet.">
            {(k) => <KeyRow key={k.id} k={k} />}
          </CardList>
          {o.destinationErrors.map((e) => (
            <ErrorNotice key={e.destinationId} error={e.error} />
          ))}
        </Section>
      )}
      <Section title="Import a key">
        <ImportKeyForm />
      </Section>
    </div>
  );
}

function KeyRow({ k }: { k: KeyView }) {
  return (
    <li className="card" aria-label={`Key ${k.id}`}>
      <div className="row spread">
        <strong>
          <code>{k.id}</code>
        </strong>
        <span>
          {k.current ? 'Current: new backups use it' : k.held ? 'Kept for reading' : 'Missing'}
        </span>
      </div>
      {!k.held && (
        <p className="notice notice-error" role="alert">
          {k.backupCount} backup(s) were made with this key, which this machine does not hold.
          Import it (from its recovery kit) to read them.
        </p>
      )}
      <p className="muted">
        {k.createdAt ? `Made ${new Date(k.createdAt).toLocaleString()}. ` : ''}
        Reads {k.backupCount} backup{k.backupCount === 1 ? '' : 's'}.
      </p>
      {k.backups.length > 0 && (
        <details>
          <summary>Backups made with this key</summary>
          <ul>
            {k.backups.map((b) => (
              <li key={`${b.destinationId}/${b.backupId}`}>
                {b.backupId} in {b.destinationName}
                {b.project ? ` (${b.project})` : ''}
              </li>
            ))}
          </ul>
        </details>
      )}
    </li>
  );
}

function ImportKeyForm() {
  const importKey = useApp((s) => s.keys.importKey);
  const [key, setKey] = useState('');
  const [done, setDone] = useState<string | null>(null);
  return (
    <form
      className="stack"
      aria-label="Import a key"
      onSubmit={async (e) => {
        e.preventDefault();
        const imported = await importKey(key);
        if (imported) {
          setKey('');
          setDone(
            imported.current
              ? `Key ${imported.keyId} imported; new backups use it.`
              : `Key ${imported.keyId} imported; it is kept for reading older backups.`,
          );
        }
      }}
    >
      <Field
        label="Key"
        hint="64 hex characters, from a recovery kit or ENCRYPTION_KEY."
        type="password"
        autoComplete="off"
        value={key}
        onChange={(e) => setKey(e.target.value)}
      />
      {done && (
        <p role="status" className="notice notice-ok">
          {done}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={key.trim() === ''}>
          Import key
        </button>
      </div>
    </form>
  );
}
