/** Chart data for the dashboard, pure (tested without a browser). */

export interface SeriesPoint {
  projectId: string;
  runId: string;
  at: string;
  bytes: number | null;
  documents: number | null;
  durationSeconds: number | null;
}

export type Metric = 'bytes' | 'documents' | 'durationSeconds';

/**
 * Rows for a line chart with one line per project: one row per run (time on the x axis),
 * the project's value in its own column and the others absent, so recharts draws each
 * project's line through its own points (`connectNulls`).
 */
export function chartRows(
  points: readonly SeriesPoint[],
  metric: Metric,
): Array<Record<string, number | string | null>> {
  return points
    .filter((p) => p[metric] !== null)
    .map((p) => ({ at: Date.parse(p.at), [p.projectId]: p[metric] }));
}

/** How old a backup is, in words: "3 h", "2 d", "45 min". */
export function formatAge(seconds: number): string {
  if (seconds < 3600) return `${Math.max(0, Math.round(seconds / 60))} min`;
  if (seconds < 48 * 3600) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} d`;
}
