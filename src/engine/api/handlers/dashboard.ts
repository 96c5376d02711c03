import type { Run } from '../../../shared/jobs.js';
import { nextOccurrence } from '../../scheduler/cron.js';
import type { HandlerContext, HandlersFor } from './context.js';

/** Runs of one project read for its health: enough to find the last good one. */
const HEALTH_WINDOW = 200;

const whenOf = (r: Run): string => r.finishedAt ?? r.scheduledFor ?? r.startedAt ?? '';

export function dashboardHandlers({
  runtime,
}: HandlerContext): HandlersFor<'dashboard.overview' | 'dashboard.series'> {
  const { catalog, clock } = runtime;

  /** The soonest next run of the project's enabled schedules. */
  const nextRunOf = (projectId: string, now: Date) => {
    let next: { at: string; scheduleId: string; scheduleName: string } | null = null;
    for (const s of catalog.schedules.list()) {
      if (!s.enabled || s.projectId !== projectId) continue;
      try {
        const at = nextOccurrence(s.cron, s.timeZone, now).toISOString();
        if (!next || at < next.at) next = { at, scheduleId: s.id, scheduleName: s.name };
      } catch {
        // A timetable with no further occurrence: nothing to show.
      }
    }
    return next;
  };

  return {
    'dashboard.overview': async ({ staleAfterHours }) => {
      const now = clock.now();
      const projects = catalog.projects.list().map((p) => {
        const runs = catalog.runs
          .list({ projectId: p.id, kind: 'backup', limit: HEALTH_WINDOW })
          .filter((r) => r.status !== 'queued' && r.status !== 'running');
        const good = runs.find((r) => r.status === 'succeeded');
        const last = runs[0];
        const goodIndex = good ? runs.indexOf(good) : runs.length;
        const failuresSinceGood = runs
          .slice(0, goodIndex)
          .filter((r) => r.status === 'failed' || r.status === 'missed').length;
        const ageSeconds = good ? (now.getTime() - Date.parse(whenOf(good))) / 1000 : 0;
        const health = !good
          ? last?.status === 'failed'
            ? 'failing'
            : 'never'
          : last?.status === 'failed' || last?.status === 'missed'
            ? 'failing'
            : ageSeconds > staleAfterHours * 3600
              ? 'stale'
              : 'ok';
        return {
          projectId: p.id,
          name: p.name,
          firebaseProjectId: p.firebaseProjectId,
          health: health as 'never' | 'ok' | 'stale' | 'failing',
          lastGood: good
            ? { runId: good.id, backupId: good.backupId, at: whenOf(good), ageSeconds }
            : null,
          lastRun: last
            ? { runId: last.id, status: last.status, at: whenOf(last), error: last.error }
            : null,
          nextRun: nextRunOf(p.id, now),
          failuresSinceGood,
        };
      });
      const destinations = catalog.destinations.list().map((d) => {
        const backups = catalog.backups.list({ destinationId: d.id });
        return {
          destinationId: d.id,
          name: d.name,
          url: d.url,
          backups: backups.length,
          bytes: backups.reduce((n, b) => n + (b.bytes ?? 0), 0),
        };
      });
      return { projects, destinations, generatedAt: now.toISOString() };
    },

    'dashboard.series': async ({ projectId, days }) => {
      const since = new Date(clock.now().getTime() - days * 86_400_000).toISOString();
      return catalog.runs
        .list({
          kind: 'backup',
          status: 'succeeded',
          limit: 100_000,
          ...(projectId ? { projectId } : {}),
        })
        .filter((r) => r.projectId !== null && r.finishedAt !== null && r.finishedAt >= since)
        .reverse()
        .map((r) => ({
          projectId: r.projectId!,
          runId: r.id,
          backupId: r.backupId,
          at: r.finishedAt!,
          bytes: r.bytes,
          documents: r.counts?.['firestore.documents'] ?? null,
          durationSeconds:
            r.startedAt && r.finishedAt
              ? (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000
              : null,
        }));
    },
  };
}
