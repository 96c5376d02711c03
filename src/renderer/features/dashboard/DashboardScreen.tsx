import { lazy, Suspense } from 'react';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatBytes, formatCount } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { BackupNow, useBackupNowChoices } from '../backup-now/BackupNow.js';
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
  return (
    <div className="stack">
      <ErrorNotice error={overview.error} onRetry={() => void load()} />
      <section aria-label="Projects" className="stack">
        <h2>Projects</h2>
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
                <th scope="row">{p.name}</th>
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
                  <BackupNow projectId={p.projectId} name={p.name} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-label="Storage" className="stack">
        <h2>Storage used</h2>
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
                <th scope="row">{d.name}</th>
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
