import type { SyncOrigin } from '../../../shared/api/methods/sync.js';
import type { Run } from '../../../shared/jobs.js';
import type { Schedule } from '../../../shared/schedules.js';
import { nextOccurrence } from '../../scheduler/cron.js';
import { toBackupRow } from './backup-browse.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { destinationView } from './destination-setup.js';
import { enrichRuns } from './history.js';
import { projectView } from './projects.js';
import { syncedCatalogOf } from './sync.js';

/** Runs of one project read for its health: enough to find the last good one. */
const HEALTH_WINDOW = 200;
/** Backup runs read for the charts (and, in sync mode, for every project's health). */
const SERIES_WINDOW = 100_000;

const whenOf = (r: Run): string => r.finishedAt ?? r.scheduledFor ?? r.startedAt ?? '';

type Origin = { origin?: SyncOrigin | undefined };

/**
 * What the Dashboard reads. Outside sync mode, this machine's catalog. In team sync mode,
 * the organisation's lists merged with this machine's by the catalog screens' own rules
 * (SyncedCatalog, ADR 0015): the same rows, ids and `origin` markers as Projects, History
 * and Backups show, and the same record of how each list was served for `sync.state`
 * (so the offline banner and the role gate work here too).
 */
interface Sources {
  projects: ({ id: string; name: string; firebaseProjectId: string } & Origin)[];
  schedules: Schedule[];
  /** Backup runs of a project, newest first. */
  runsOf(projectId: string, limit: number): Run[];
  destinations: ({ id: string; name: string; url: string } & Origin)[];
  /** The backups placed in a destination (what it holds, as far as known here). */
  backupsOf(destinationId: string): { bytes: number | null }[];
}

const groupBy = <T>(rows: T[], key: (row: T) => string | null) => {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    if (k !== null) groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  return groups;
};

export function dashboardHandlers(
  context: HandlerContext,
): HandlersFor<'dashboard.overview' | 'dashboard.series'> {
  const { catalog, clock } = context.runtime;
  const synced = syncedCatalogOf(context);

  const localSources = (): Sources => ({
    projects: catalog.projects.list(),
    schedules: catalog.schedules.list(),
    runsOf: (projectId, limit) => catalog.runs.list({ projectId, kind: 'backup', limit }),
    destinations: catalog.destinations.list(),
    backupsOf: (destinationId) => catalog.backups.list({ destinationId }),
  });

  /** The organisation's backup runs merged with this machine's, newest first. */
  const syncedRuns = async (): Promise<Run[]> =>
    synced.runs(enrichRuns(catalog, catalog.runs.list({ kind: 'backup', limit: SERIES_WINDOW })), {
      kind: 'backup',
      limit: SERIES_WINDOW,
    });

  const syncedSources = async (): Promise<Sources> => {
    const [projects, schedules, runs, destinations, backups] = await Promise.all([
      Promise.all(catalog.projects.list().map(projectView)).then((l) => synced.projects(l)),
      synced.schedules(catalog.schedules.list()),
      syncedRuns(),
      synced.destinations(catalog.destinations.list().map((d) => destinationView(d, false))),
      synced.search(catalog.backups.list().map(toBackupRow), () => true, Infinity),
    ]);
    const runsBy = groupBy(runs, (r) => r.projectId);
    const backupsBy = groupBy(backups.backups, (b) => b.destinationId);
    return {
      projects,
      schedules,
      runsOf: (projectId, limit) => (runsBy.get(projectId) ?? []).slice(0, limit),
      destinations,
      backupsOf: (destinationId) => backupsBy.get(destinationId) ?? [],
    };
  };

  /** The soonest next run of the project's enabled schedules. */
  const nextRunOf = (schedules: Schedule[], projectId: string, now: Date) => {
    let next: { at: string; scheduleId: string; scheduleName: string } | null = null;
    for (const s of schedules) {
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

  /** Only in sync mode: the row's origin (older callers and local mode see no field). */
  const originOf = (row: Origin) => (row.origin !== undefined ? { origin: row.origin } : {});

  return {
    'dashboard.overview': async ({ staleAfterHours }) => {
      const now = clock.now();
      const sources = (await synced.active()) ? await syncedSources() : localSources();
      const projects = sources.projects.map((p) => {
        const runs = sources
          .runsOf(p.id, HEALTH_WINDOW)
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
          nextRun: nextRunOf(sources.schedules, p.id, now),
          failuresSinceGood,
          ...originOf(p),
        };
      });
      const destinations = sources.destinations.map((d) => {
        const backups = sources.backupsOf(d.id);
        return {
          destinationId: d.id,
          name: d.name,
          url: d.url,
          backups: backups.length,
          bytes: backups.reduce((n, b) => n + (b.bytes ?? 0), 0),
          ...originOf(d),
        };
      });
      return { projects, destinations, generatedAt: now.toISOString() };
    },

    'dashboard.series': async ({ projectId, days }) => {
      const since = new Date(clock.now().getTime() - days * 86_400_000).toISOString();
      const runs = (await synced.active())
        ? await syncedRuns()
        : catalog.runs.list({ kind: 'backup', status: 'succeeded', limit: SERIES_WINDOW });
      return runs
        .filter(
          (r) =>
            r.status === 'succeeded' &&
            (projectId === undefined || r.projectId === projectId) &&
            r.projectId !== null &&
            r.finishedAt !== null &&
            r.finishedAt >= since,
        )
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
