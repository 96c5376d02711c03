import {
  JobKindSchema,
  RunStatusSchema,
  type JobKind,
  type RunStatus,
} from '../../../shared/jobs.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatBytes, formatCount, formatDuration } from '../../components/format.js';
import { useEffect, useRef } from 'react';
import { useApp } from '../../store/index.js';
import type { Loadable } from '../../store/slice.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import type { HistoryRun } from './slice.js';
import { SyncNotice, useOrgTitle } from '../sync/SyncNotice.js';

/** Every run, missed and failed ones included, with the error and what to do. */
export function HistoryScreen() {
  const runs = useApp((s) => s.history.runs);
  const filter = useApp((s) => s.history.filter);
  const setFilter = useApp((s) => s.history.setFilter);
  const load = useApp((s) => s.history.load);
  const focused = useApp((s) => s.history.focused);
  const projects = useApp((s) => s.projects.list.value);
  const loadProjects = useApp((s) => s.projects.load);
  const caption = useOrgTitle('Runs, newest first', (org) => `Runs of ${org}, newest first`);
  useEffectOnce(() => {
    void load();
    void loadProjects();
  });
  return (
    <div className="stack">
      <SyncNotice list="runs" loaded={runs.value} />
      <FocusedRun focused={focused} />
      <form
        className="row wrap filters"
        aria-label="Filter runs"
        onSubmit={(e) => e.preventDefault()}
      >
        <label>
          Kind
          <select
            value={filter.kind ?? ''}
            onChange={(e) =>
              void setFilter({ kind: (e.target.value || undefined) as JobKind | undefined })
            }
          >
            <option value="">All kinds</option>
            {JobKindSchema.options.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select
            value={filter.status ?? ''}
            onChange={(e) =>
              void setFilter({ status: (e.target.value || undefined) as RunStatus | undefined })
            }
          >
            <option value="">All statuses</option>
            {RunStatusSchema.options.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Project
          <select
            value={filter.projectId ?? ''}
            onChange={(e) => void setFilter({ projectId: e.target.value || undefined })}
          >
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p.id} value={p.id}>
                {p.name}
              </option>
            ))}
          </select>
        </label>
        <button type="button" onClick={() => void load()}>
          Refresh
        </button>
      </form>
      <ErrorNotice error={runs.error} />
      <p role="status" className="muted">
        {runs.loading ? 'Loading runs…' : `${formatCount(runs.value.length)} runs`}
      </p>
      <table className="data">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Project / schedule</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {runs.value.map((r) => (
            <RunRow key={r.id} run={r} current={r.id === focused.value?.id} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The run a notification opened: its detail first, in a region focus moves to. */
function FocusedRun({ focused }: { focused: Loadable<HistoryRun | null> }) {
  const region = useRef<HTMLElement>(null);
  const run = focused.value;
  useEffect(() => {
    if (run) region.current?.focus();
  }, [run]);
  if (!run && !focused.error && !focused.loading) return null;
  return (
    <section className="card" aria-label="The run you opened" tabIndex={-1} ref={region}>
      <ErrorNotice error={focused.error} />
      {focused.loading && <p role="status">Loading the run…</p>}
      {run && (
        <table className="data">
          <caption>The run you opened</caption>
          <tbody>
            <RunRow run={run} current />
          </tbody>
        </table>
      )}
    </section>
  );
}

function RunRow({ run, current = false }: { run: HistoryRun; current?: boolean }) {
  const when = run.finishedAt ?? run.startedAt ?? run.scheduledFor;
  const took =
    run.startedAt && run.finishedAt
      ? formatDuration((Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000)
      : null;
  const docs = run.counts?.['firestore.documents'];
  return (
    <tr data-status={run.status} data-run={run.id} aria-current={current ? 'true' : undefined}>
      <td>{when ? new Date(when).toLocaleString() : '—'}</td>
      <td>
        {run.kind}
        {run.trigger !== 'manual' ? <span className="muted"> ({run.trigger})</span> : null}
        {run.kind === 'restore' && run.detail?.planned ? (
          <span className="muted"> (dry run: nothing written)</span>
        ) : null}
      </td>
      <td>
        <span
          className="health"
          data-health={
            run.status === 'succeeded'
              ? 'ok'
              : run.status === 'failed' || run.status === 'missed'
                ? 'failing'
                : ''
          }
        >
          {run.status}
        </span>
      </td>
      <td>
        {run.projectName ?? '—'}
        {run.scheduleName ? <span className="muted"> · {run.scheduleName}</span> : null}
      </td>
      <td>
        {/* A grid inside the cell: a grid td stops being a table cell, and its border no longer lines up. */}
        <div className="stack">
          <span>
            {[
              took,
              docs !== undefined ? `${formatCount(docs)} documents` : null,
              run.bytes !== null ? formatBytes(run.bytes) : null,
              run.backupId,
            ]
              .filter(Boolean)
              .join(' · ')}
          </span>
          {run.error && <span className="field-error">{run.error.message}</span>}
          {run.status === 'missed' && typeof run.detail?.reason === 'string' && (
            <span>Missed because {run.detail.reason}.</span>
          )}
          {run.advice && (
            <span>
              <strong>What to do:</strong> {run.advice}
            </span>
          )}
        </div>
      </td>
    </tr>
  );
}
