import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useId, useMemo, useRef, useState } from 'react';
import type { Synced } from '../../../shared/api/methods/sync.js';
import { filterBackups, type BackupRow } from '../../../shared/backup-filters.js';
import { ConfirmDialog } from '../../components/ConfirmDialog.js';
import { DocumentView } from '../../components/DocumentView.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { JobProgress } from '../../components/JobProgress.js';
import { formatBytes, formatCount, formatDateTime } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { useEffectOnce } from '../useEffectOnce.js';
import type { BackupsSlice } from './slice.js';
import { SharedBackupPanel } from './SharedBackupPanel.js';
import { SyncNotice, useCan, useOrgTitle } from '../sync/SyncNotice.js';
import '../../styles/data.css';

/** Two lines of text when the list is narrow (styles/data.css). */
const ROW_HEIGHT = 60;

/** The Backups screen: a filtered, virtualised list; the selected backup's detail and browser. */
export function BackupsScreen() {
  const load = useApp((s) => s.backups.load);
  const selected = useApp((s) => s.backups.selected);
  useEffectOnce(() => void load());
  return (
    <div className="split">
      <BackupList />
      {selected?.shared ? (
        <SharedBackupPanel key={`${selected.destinationId}/${selected.backupId}/shared`} />
      ) : selected ? (
        <BackupDetailPanel key={`${selected.destinationId}/${selected.backupId}`} />
      ) : null}
    </div>
  );
}

function BackupList() {
  const load = useApp((s) => s.backups.load);
  const rows = useApp((s) => s.backups.rows);
  const filter = useApp((s) => s.backups.filter);
  const setFilter = useApp((s) => s.backups.setFilter);
  const select = useApp((s) => s.backups.select);
  const selected = useApp((s) => s.backups.selected);
  const shown = useMemo(() => filterBackups(rows.value, filter), [rows.value, filter]);
  const projects = useMemo(
    () => [...new Set(rows.value.map((r) => r.project).filter((p): p is string => !!p))].sort(),
    [rows.value],
  );
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: shown.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const id = useId();
  const title = useOrgTitle('Backups', (org) => `Backups of ${org}`);
  return (
    <section aria-label="Backups list" className="stack">
      <h2>{title}</h2>
      <SyncNotice list="backups" loaded={rows.value} />
      <form
        className="row wrap filters"
        role="search"
        aria-label="Filter backups"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Search
          <input
            type="search"
            value={filter.text ?? ''}
            placeholder="id, project, schedule"
            onChange={(e) => setFilter({ text: e.target.value })}
          />
        </label>
        <label>
          Project
          <select
            value={filter.project ?? ''}
            onChange={(e) => setFilter({ project: e.target.value })}
          >
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label>
          Verification
          <select
            value={filter.verifyState ?? ''}
            onChange={(e) =>
              setFilter({
                verifyState: (e.target.value || undefined) as BackupRow['verifyState'] | undefined,
              })
            }
          >
            <option value="">Any</option>
            <option value="verified">Verified</option>
            <option value="failed">Failed verification</option>
            <option value="unverified">Not verified</option>
          </select>
        </label>
        <label>
          Created from
          <input
            type="date"
            value={filter.from ?? ''}
            onChange={(e) => setFilter({ from: e.target.value })}
          />
        </label>
        <label>
          Created before
          <input
            type="date"
            value={filter.to ?? ''}
            onChange={(e) => setFilter({ to: e.target.value })}
          />
        </label>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      <ErrorNotice error={rows.error} />
      <p id={`${id}-count`} role="status" className="muted">
        {rows.loading
          ? 'Loading backups…'
          : `${formatCount(shown.length)} of ${formatCount(rows.value.length)} backups`}
      </p>
      <div
        ref={scroller}
        className="virtual-list"
        role="list"
        aria-label="Backups"
        aria-describedby={`${id}-count`}
        tabIndex={0}
      >
        <div style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map((item) => {
            const row = shown[item.index]!;
            const current =
              selected?.backupId === row.id && selected.destinationId === row.destinationId;
            return (
              <BackupListRow
                key={`${row.destinationId}/${row.id}`}
                row={row}
                current={current}
                index={item.index}
                of={shown.length}
                start={item.start}
                size={item.size}
                onSelect={select}
              />
            );
          })}
        </div>
      </div>
    </section>
  );
}

/**
 * One row of the virtual list. Memoised: scrolling re-renders the list every frame, and
 * only rows whose data or position changed should do any work (their text is formatted
 * with shared Intl formatters, see components/format.ts).
 */
const BackupListRow = memo(function BackupListRow({
  row,
  current,
  index,
  of,
  start,
  size,
  onSelect,
}: {
  row: Synced<BackupRow>;
  current: boolean;
  index: number;
  of: number;
  start: number;
  size: number;
  onSelect: BackupsSlice['select'];
}) {
  return (
    <div
      role="listitem"
      aria-setsize={of}
      aria-posinset={index + 1}
      className="virtual-row"
      style={{ height: size, transform: `translateY(${start}px)` }}
    >
      <button
        type="button"
        className="row-button"
        aria-current={current ? 'true' : undefined}
        // Named by its visible text (date, project, counts, state): an aria-label
        // that differs from what is shown fails WCAG 2.5.3 (label in name).
        onClick={() =>
          void onSelect({
            destinationId: row.destinationId,
            backupId: row.id,
            // Another member's: opened from the organisation server's metadata.
            ...(row.origin?.where === 'server' ? { shared: true } : {}),
          })
        }
      >
        {/* Classes place the cells (styles/data.css): numbers are never cut, names may be. */}
        <span className="made">{formatDateTime(row.createdAt)}</span>
        <Cut className="project" text={row.project ?? 'key not held'} />
        <span className="docs">
          {row.documents === null ? '—' : `${formatCount(row.documents)} docs`}
        </span>
        <span className="size">{row.bytes === null ? '—' : formatBytes(row.bytes)}</span>
        {row.origin?.where === 'server' ? (
          // Reported by another member: its archive and key are not on this machine.
          <Cut className="state" text="Organisation's, not here" data-sync="server" />
        ) : (
          <Cut
            className="state"
            text={VERIFY_LABEL[row.verifyState]}
            data-verify={row.verifyState}
          />
        )}
      </button>
    </div>
  );
});

/** A cell that may be cut with an ellipsis when the row is narrow: its title says it whole. */
function Cut({
  className,
  text,
  ...data
}: { className: string; text: string } & Record<`data-${string}`, string>) {
  return (
    <span className={`cut ${className}`} title={text} {...data}>
      {text}
    </span>
  );
}

const VERIFY_LABEL: Record<BackupRow['verifyState'], string> = {
  verified: 'Verified',
  failed: 'Verification failed',
  unverified: 'Not verified',
};

function BackupDetailPanel() {
  const detail = useApp((s) => s.backups.detail);
  const actionError = useApp((s) => s.backups.actionError);
  const verify = useApp((s) => s.backups.verify);
  const remove = useApp((s) => s.backups.remove);
  const go = useApp((s) => s.nav.go);
  const [verifyJob, setVerifyJob] = useState<string | null>(null);
  const [confirm, setConfirm] = useState('');
  const mayRestore = useCan('backups:restore');
  const mayDelete = useCan('backups:delete');
  const d = detail.value;
  return (
    <section aria-label="Backup detail" className="stack">
      <h2>Backup {d?.id ?? ''}</h2>
      <ErrorNotice error={detail.error ?? actionError} />
      {detail.loading && <p role="status">Reading the manifest…</p>}
      {d && (
        <>
          <dl className="facts">
            <dt>Project</dt>
            <dd>
              {d.project} / {d.database}
            </dd>
            <dt>Read time</dt>
            <dd>
              <code>{d.readTime}</code>
            </dd>
            <dt>Completed</dt>
            <dd>{new Date(d.completedAt).toLocaleString()}</dd>
            <dt>Sources</dt>
            <dd>{d.sources.join(', ')}</dd>
            <dt>Selection</dt>
            <dd>
              {d.selection?.collections.length
                ? d.selection.collections.join(', ')
                : 'all collections'}
              {d.selection?.exclude.length ? ` (excluding ${d.selection.exclude.join(', ')})` : ''}
            </dd>
            {Object.entries(d.counts).map(([k, n]) => (
              <FactPair key={k} term={COUNT_LABEL[k] ?? k} value={formatCount(n)} />
            ))}
            <dt>Archive size</dt>
            <dd>{formatBytes(d.archive.size)}</dd>
            <dt>Key</dt>
            <dd>
              <code>{d.keyId}</code>
            </dd>
            <dt>Verification</dt>
            <dd data-verify={d.verification.state}>
              {VERIFY_LABEL[d.verification.state]}
              {d.verification.at ? ` (${new Date(d.verification.at).toLocaleString()})` : ''}
              {d.verification.error ? `: ${d.verification.error}` : ''}
            </dd>
          </dl>
          <div className="row">
            <button
              type="button"
              onClick={() => void verify().then((id) => setVerifyJob(id ?? null))}
            >
              Verify now
            </button>
            {mayRestore && (
              <button type="button" onClick={() => go('restore')}>
                Restore…
              </button>
            )}
            {mayDelete && (
              <ConfirmDialog
                trigger={
                  <button type="button" className="danger">
                    Delete backup…
                  </button>
                }
                title={`Delete backup ${d.id}?`}
                confirmLabel="Delete backup"
                onConfirm={() => void remove(confirm)}
              >
                <p>
                  The archive and its manifest are removed from the destination. This cannot be
                  undone. Type the backup id to confirm.
                </p>
                <label>
                  Backup id
                  <input
                    value={confirm}
                    onChange={(e) => setConfirm(e.target.value)}
                    autoComplete="off"
                  />
                </label>
              </ConfirmDialog>
            )}
          </div>
          {verifyJob && <JobProgress jobId={verifyJob} label="Verify" />}
          <DocumentBrowser />
        </>
      )}
    </section>
  );
}

const COUNT_LABEL: Record<string, string> = {
  'firestore.documents': 'Documents',
  'auth.users': 'Auth users',
  'storage.objects': 'Storage files',
};

function FactPair({ term, value }: { term: string; value: string }) {
  return (
    <>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </>
  );
}

/** Collections → documents → one document, read-only; subcollections open in place. */
function DocumentBrowser() {
  const browser = useApp((s) => s.backups.browser);
  const openParent = useApp((s) => s.backups.openParent);
  const openCollection = useApp((s) => s.backups.openCollection);
  const more = useApp((s) => s.backups.moreDocuments);
  const openDocument = useApp((s) => s.backups.openDocument);
  useEffectOnce(() => void openParent(''));
  const doc = browser.document.value;
  return (
    <section aria-label="Document browser" className="stack">
      <h3>Browse</h3>
      <nav aria-label="Location" className="row">
        <button type="button" className="link" onClick={() => void openParent('')}>
          Root collections
        </button>
        {browser.parent && <code>{browser.parent}</code>}
      </nav>
      <ErrorNotice error={browser.collections.error} />
      {browser.collections.loading && (
        <p role="status">Reading the backup once to index it (later pages are instant)…</p>
      )}
      <ul aria-label="Collections" className="plain">
        {browser.collections.value.map((c) => (
          <li key={c.path}>
            <button
              type="button"
              aria-current={browser.collection === c.path ? 'true' : undefined}
              onClick={() => void openCollection(c.path)}
            >
              {c.id} <span className="muted">({formatCount(c.documents)})</span>
            </button>
          </li>
        ))}
      </ul>
      {browser.collection && (
        <div className="stack">
          <h4>
            {browser.collection}{' '}
            <span className="muted">
              {formatCount(browser.documents.value.length)} of {formatCount(browser.total)}{' '}
              documents
            </span>
          </h4>
          <ErrorNotice error={browser.documents.error} />
          <ul aria-label={`Documents of ${browser.collection}`} className="plain scroll-box">
            {browser.documents.value.map((d) => (
              <li key={d.path} className="row">
                <button
                  type="button"
                  disabled={d.missing}
                  onClick={() => void openDocument(d.path)}
                >
                  {d.id}
                  {d.missing ? ' (not in the backup; only its subcollections are)' : ''}
                </button>
                {d.subcollections > 0 && (
                  <button
                    type="button"
                    className="quiet"
                    aria-label={`Subcollections of ${d.path}`}
                    onClick={() => void openParent(d.path)}
                  >
                    {d.subcollections} subcollection{d.subcollections === 1 ? '' : 's'}
                  </button>
                )}
              </li>
            ))}
          </ul>
          {browser.nextCursor && (
            <button type="button" onClick={() => void more()} disabled={browser.documents.loading}>
              Load more documents
            </button>
          )}
        </div>
      )}
      <ErrorNotice error={browser.document.error} />
      {doc && (
        <>
          <DocumentView document={doc.document} onOpenReference={(p) => void openDocument(p)} />
          {doc.subcollections.length > 0 && (
            <button type="button" onClick={() => void openParent(doc.document.path)}>
              Open subcollections of {doc.document.path}
            </button>
          )}
        </>
      )}
    </section>
  );
}
