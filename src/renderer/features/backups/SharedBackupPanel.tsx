import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatBytes, formatCount, formatDateTime } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import type { SharedBackup } from './slice.js';

/**
 * A backup only the organisation server knows (another member's machine made it): what
 * the server knows, and what restoring it here needs. Its archive and key never pass
 * through the server, so there is no Restore here: when a destination with the same URL
 * is set up on this machine the archive can be read from it (then the usual detail,
 * browser and Restore apply); otherwise the panel says which destination and which key
 * to add.
 */
export function SharedBackupPanel() {
  const shared = useApp((s) => s.backups.shared);
  const actionError = useApp((s) => s.backups.actionError);
  const selected = useApp((s) => s.backups.selected);
  const b = shared.value;
  return (
    <section aria-label="Backup detail" className="stack">
      <h2>Backup {b?.id ?? selected?.backupId ?? ''}</h2>
      <p className="muted" data-sync="server">
        Made on another member&apos;s machine: this is what the organisation server knows of it.
      </p>
      <ErrorNotice error={shared.error ?? actionError} />
      {shared.loading && <p role="status">Asking the organisation server…</p>}
      {b && (
        <>
          {b.sync.offline && b.sync.syncedAt !== null && (
            <p className="notice notice-warning" role="status">
              Offline — as the organisation server said on {formatDateTime(b.sync.syncedAt)}.
            </p>
          )}
          <dl className="facts">
            <dt>Project</dt>
            <dd>
              {b.projectName ?? b.project ?? 'unknown'}
              {b.projectName && b.project ? ` (${b.project})` : ''}
            </dd>
            <dt>Made</dt>
            <dd>
              {formatDateTime(b.createdAt)}
              {b.recordedBy ? ` by ${b.recordedBy}` : ''}
            </dd>
            {b.completedAt && (
              <>
                <dt>Completed</dt>
                <dd>{formatDateTime(b.completedAt)}</dd>
              </>
            )}
            <dt>Sources</dt>
            <dd>{b.sources === null ? 'not reported' : b.sources.join(', ')}</dd>
            <dt>Documents</dt>
            <dd>{b.documents === null ? 'not reported' : formatCount(b.documents)}</dd>
            <dt>Archive size</dt>
            <dd>{b.bytes === null ? 'not reported' : formatBytes(b.bytes)}</dd>
            <dt>Destination</dt>
            <dd>
              {/* Named by its URL only: the destination is not one of the organisation's. */}
              {b.destination.name ?? (b.destination.url ? '' : 'not named by the server')}
              {b.destination.url && (
                <>
                  {' '}
                  <code>{b.destination.url}</code>
                </>
              )}
            </dd>
            <dt>Key</dt>
            <dd>
              {b.keyId ? <code>{b.keyId}</code> : 'not recorded'}
              {b.keyId && (b.keyHeld ? ' (on this machine)' : ' (not on this machine)')}
            </dd>
            {b.run && (
              <>
                <dt>Run</dt>
                <dd>
                  <code>{b.run.id}</code> {b.run.status}
                  {b.run.finishedAt ? `, ${formatDateTime(b.run.finishedAt)}` : ''}
                  {b.run.reportedBy ? `, reported by ${b.run.reportedBy}` : ''}
                </dd>
              </>
            )}
          </dl>
          <RestoreNeeds backup={b} />
        </>
      )}
    </section>
  );
}

/** What restoring it here needs, and the one action that can work: reading it from here. */
function RestoreNeeds({ backup: b }: { backup: SharedBackup }) {
  const readHere = useApp((s) => s.backups.readHere);
  const here = b.here;
  return (
    <div className="stack" aria-label="To restore it here" role="group">
      <h3>To restore it on this machine</h3>
      {b.needs.length > 0 && (
        <ul data-needs="">
          {b.needs.map((n) => (
            <li key={n}>{n}</li>
          ))}
        </ul>
      )}
      {here ? (
        <div className="row">
          <button type="button" onClick={() => void readHere(here.destinationId)}>
            Read it from {here.name} on this machine
          </button>
        </div>
      ) : (
        <p className="muted">
          Nothing on this machine can read it yet, so it cannot be restored from here.
        </p>
      )}
    </div>
  );
}
