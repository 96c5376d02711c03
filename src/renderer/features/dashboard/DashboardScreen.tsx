import { useMemo } from 'react';
import {
  CartesianGrid,
  Legend,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { ErrorNotice } from '../../components/ErrorNotice.js';
import { formatBytes, formatCount, formatDuration } from '../../components/format.js';
import { useApp } from '../../store/index.js';
import { useEffectOnce } from '../useEffectOnce.js';
import '../../styles/data.css';
import { chartRows, formatAge, type Metric } from './series.js';
import type { ProjectHealth } from './slice.js';

const HEALTH_TEXT: Record<ProjectHealth['health'], string> = {
  ok: 'Healthy',
  stale: 'Last good backup is old',
  failing: 'Failing',
  never: 'No good backup yet',
};

const PALETTE = ['#c2410c', '#0b63ce', '#1a7f37', '#8250df', '#bf8700', '#cf222e'];

/** Every project's health at a glance, storage per destination, and charts over time. */
export function DashboardScreen() {
  const overview = useApp((s) => s.dashboard.overview);
  const load = useApp((s) => s.dashboard.load);
  const go = useApp((s) => s.nav.go);
  useEffectOnce(() => void load());
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
      <Charts />
    </div>
  );
}

function Charts() {
  const series = useApp((s) => s.dashboard.series);
  const projects = useApp((s) => s.dashboard.overview.value.projects);
  const days = useApp((s) => s.dashboard.days);
  const setDays = useApp((s) => s.dashboard.setDays);
  const names = useMemo(() => new Map(projects.map((p) => [p.projectId, p.name])), [projects]);
  const ids = useMemo(() => [...new Set(series.value.map((p) => p.projectId))], [series.value]);
  const charts: Array<[Metric, string, (n: number) => string]> = [
    ['bytes', 'Backup size', formatBytes],
    ['documents', 'Documents', formatCount],
    ['durationSeconds', 'Duration', formatDuration],
  ];
  return (
    <section aria-label="Charts" className="stack">
      <div className="row spread">
        <h2>Over time</h2>
        <label>
          Period
          <select value={days} onChange={(e) => void setDays(Number(e.target.value))}>
            <option value={7}>7 days</option>
            <option value={30}>30 days</option>
            <option value={90}>90 days</option>
            <option value={365}>1 year</option>
          </select>
        </label>
      </div>
      <ErrorNotice error={series.error} />
      {series.value.length === 0 && <p className="muted">No successful backups in this period.</p>}
      {series.value.length > 0 &&
        charts.map(([metric, title, format]) => (
          <figure key={metric} className="card" aria-label={`${title} over time`}>
            <figcaption>{title}</figcaption>
            <div className="chart">
              <ResponsiveContainer width="100%" height="100%">
                <LineChart data={chartRows(series.value, metric)}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis
                    dataKey="at"
                    type="number"
                    scale="time"
                    domain={['dataMin', 'dataMax']}
                    tickFormatter={(t: number) => new Date(t).toLocaleDateString()}
                  />
                  <YAxis tickFormatter={(v: number) => format(v)} width={80} />
                  <Tooltip
                    labelFormatter={(t) => new Date(Number(t)).toLocaleString()}
                    formatter={(v) => format(Number(v))}
                  />
                  <Legend />
                  {ids.map((id, i) => (
                    <Line
                      key={id}
                      dataKey={id}
                      name={names.get(id) ?? id}
                      stroke={PALETTE[i % PALETTE.length]}
                      connectNulls
                      isAnimationActive={false}
                    />
                  ))}
                </LineChart>
              </ResponsiveContainer>
            </div>
          </figure>
        ))}
    </section>
  );
}
