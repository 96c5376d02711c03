import { lazy, Suspense } from 'react';
import type { SyncOrigin } from '../../../shared/api/methods/sync.js';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatBytes, formatCount } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { BackupNow, useBackupNowChoices } from '../backup-now/BackupNow.js';
import { originNote } from '../sync/abilities.js';
import { SyncNotice, useCan, useOrgTitle } from '../sync/SyncNotice.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import { formatAge } from './series.js';
import type { ProjectHealth } from './slice.js';

const HEALTH_TEXT: Record<ProjectHealth['health'], string> = {
  ok: 'Healthy',
  stale: 'Last good backup is old',
  failing: 'Failing',
  never: 'No good backup yet',
};

const Charts = lazy(() => import('./DashboardCharts.js'));

/** Every project's health at a glance, storage per destination, and charts over time. */
export function DashboardScreen() {
  const overview = useApp((s) => s.dashboard.overview);
  const load = useApp((s) => s.dashboard.load);
  const go = useApp((s) => s.nav.go);
  useEffectOnce(() => void load());
  useBackupNowChoices();
  const { projects, destinations } = overview.value;
  // Team sync mode: the organisation's state (the lists' merge), gated by the role.
  const mayBackUp = useCan('backups:create');
  const projectsTitle = useOrgTitle('Projects', (org) => `Projects of ${org}`);
  const storageTitle = useOrgTitle('Storage used', (org) => `Storage used by ${org}`);
  return (
    <div className="stack">
      <SyncNotice list="projects" loaded={overview.value} />
      <ErrorNotice error={overview.error} onRetry={() => void load()} />
      <section aria-label="Projects" className="stack">
        <h2>{projectsTitle}</h2>
        {projects.length === 0 && !overview.loading && (
          <p>
            No projects yet.{' '}
            <button type="button" className="link" onClick={() => go('first-run')}>
              Get started
            </button>
          </p>
        )}
        <table className="data">
          <caption>Health of each project</caption>
          <thead>
            <tr>
              <th scope="col">Project</th>
              <th scope="col">Health</th>
              <th scope="col">Last good backup</th>
              <th scope="col">Next run</th>
              <th scope="col">Failures since</th>
              <th scope="col">Back up</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.projectId} data-project={p.firebaseProjectId}>
                <th scope="row">
                  {p.name}
                  <OriginNote row={p} />
                </th>
                <td>
                  <span className="health" data-health={p.health}>
                    {HEALTH_TEXT[p.health]}
                  </span>
                  {p.lastRun?.error && <div className="field-error">{p.lastRun.error.message}</div>}
                </td>
                <td>
                  {p.lastGood
                    ? `${formatAge(p.lastGood.ageSeconds)} ago (${new Date(p.lastGood.at).toLocaleString()})`
                    : 'never'}
                </td>
                <td>
                  {p.nextRun
                    ? `${new Date(p.nextRun.at).toLocaleString()} (${p.nextRun.scheduleName})`
                    : 'not scheduled'}
                </td>
                <td>{formatCount(p.failuresSinceGood)}</td>
                <td>
                  {/* Another member's project has no credentials here to back up with. */}
                  {mayBackUp && p.origin?.where !== 'server' ? (
                    <BackupNow projectId={p.projectId} name={p.name} />
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Storage" className="stack">
        <h2>{storageTitle}</h2>
        <table className="data">
          <caption>Backups kept in each destination</caption>
          <thead>
            <tr>
              <th scope="col">Destination</th>
              <th scope="col">Backups</th>
              <th scope="col">Size</th>
            </tr>
          </thead>
          <tbody>
            {destinations.map((d) => (
              <tr key={d.destinationId}>
                <th scope="row">
                  {d.name}
                  <OriginNote row={d} />
                </th>
                <td>{formatCount(d.backups)}</td>
                <td>{formatBytes(d.bytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Suspense fallback={<p role="status">Loading charts…</p>}>
        <Charts />
      </Suspense>
    </div>
  );
}

/** Beside a row's name in sync mode: another member's, or not sent to the server yet. */
function OriginNote({ row }: { row: { origin?: SyncOrigin | undefined } }) {
  const note = originNote(row.origin);
  return note === null ? null : <div className="muted">{note}</div>;
}
