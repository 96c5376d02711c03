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
import { chartRows, type Metric } from './series.js';

const PALETTE = ['#c2410c', '#0b63ce', '#1a7f37', '#8250df', '#bf8700', '#cf222e'];

/**
 * The dashboard's charts, in their own chunk (loaded lazily): recharts is most of the
 * renderer's weight, and the health table above must be usable before it arrives.
 */
export default function Charts() {
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
