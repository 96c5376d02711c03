import type { ProjectView } from '../../shared/api/methods/projects.js';
import type { DestinationView } from '../../shared/api/methods/destination-setup.js';
import type {
  SyncIndicator,
  SyncOrigin,
  SyncState,
  SyncedList,
} from '../../shared/api/methods/sync.js';
import type { BackupRow } from '../../shared/backup-filters.js';
import { BACKUP_ID_PATTERN, type BackupSummary } from '../../shared/backups.js';
import { AppError, isAppError, toErrorData, type ErrorData } from '../../shared/errors.js';
import type { JobKind, Run, RunStatus } from '../../shared/jobs.js';
import { runAdvice } from '../../shared/run-advice.js';
import type { Schedule } from '../../shared/schedules.js';
import type { Catalog } from '../catalog/catalog.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { isTransient } from './client.js';
import { loadTeamCredentials } from './credentials.js';
import type { SyncList, TeamService } from './service.js';

/**
 * The catalog screens in team sync mode (ADR 0015): each list of this machine's catalog
 * merged with the organisation's shared one (TeamService.list: live, or the cached copy
 * with its age when the server is unreachable). The list handlers hand their local rows
 * here; outside sync mode they come back unchanged.
 *
 * Merging never drops a row: a server row and a local row that are the same thing (same
 * natural key: a project's Firebase id, a destination's URL, a schedule's name, a run's
 * backup id or start) become one row marked `both`, with the local id so the local
 * actions (test, back up, restore) keep working; rows only here are marked `local`
 * (`pending` when the offline queue still holds them); rows only on the server are
 * mapped into the contract's shapes and marked `server`. How each list was served is
 * kept for `sync.state` (the list methods answer arrays, which cannot carry it).
 */

type Row = Record<string, unknown>;
export type WithOrigin<T> = T & { origin?: SyncOrigin };
type HistoryRun = Run & {
  advice: string | null;
  projectName: string | null;
  scheduleName: string | null;
};

export interface SyncedCatalogOptions {
  secrets: SecretStore;
  /** The team service (opened on first use: front ends never signed in never open it). */
  service: () => TeamService;
  catalog: () => Catalog;
}

/** One read of a server list: its rows (none when unavailable) and how it was served. */
interface Served {
  items: Row[];
  indicator: SyncIndicator;
}

const LOCAL: SyncIndicator = { source: 'local', syncedAt: null, offline: false, problem: null };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' ? v : null);
/** Server dates arrive as ISO strings; normalised so they compare with the catalog's. */
const iso = (v: unknown): string | null => {
  const s = str(v);
  if (s === null) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? s : d.toISOString();
};

/**
 * The merge every list shares: a local row and a server row with the same key are one;
 * `prefer` picks among several server rows with that key.
 */
function merge<L>(
  local: L[],
  server: Row[],
  o: {
    key: (l: L) => string | null;
    serverKey: (s: Row) => string | null;
    prefer?: (l: L, s: Row) => boolean;
    fromServer: (s: Row) => L;
    pending: (l: L) => boolean;
    /** The row's id on the server (default: its `id`). */
    serverId?: (s: Row) => string | null;
  },
): WithOrigin<L>[] {
  const serverId = o.serverId ?? ((s: Row) => str(s.id));
  const byKey = new Map<string, Row[]>();
  for (const s of server) {
    const k = o.serverKey(s);
    if (k !== null) byKey.set(k, [...(byKey.get(k) ?? []), s]);
  }
  const used = new Set<Row>();
  const rows: WithOrigin<L>[] = local.map((l) => {
    const k = o.key(l);
    const candidates = (k === null ? [] : (byKey.get(k) ?? [])).filter((s) => !used.has(s));
    const match = candidates.find((s) => o.prefer?.(l, s) ?? false) ?? candidates[0];
    if (match === undefined)
      return { ...l, origin: { where: 'local', serverId: null, pending: o.pending(l) } };
    used.add(match);
    return { ...l, origin: { where: 'both', serverId: serverId(match), pending: false } };
  });
  for (const s of server)
    if (!used.has(s))
      rows.push({
        ...o.fromServer(s),
        origin: { where: 'server', serverId: serverId(s), pending: false },
      });
  return rows;
}

/** The engine's words for a run the server reports (started, finished, failed). */
const RUN_STATUS: Record<string, RunStatus> = {
  started: 'running',
  finished: 'succeeded',
  failed: 'failed',
};

export class SyncedCatalog {
  private readonly served = new Map<SyncedList, SyncIndicator>();

  constructor(private readonly o: SyncedCatalogOptions) {}

  /** Team sync mode: signed in, with an organisation picked. */
  async active(): Promise<boolean> {
    const credentials = await loadTeamCredentials(this.o.secrets);
    return credentials !== undefined && credentials.organizationId !== null;
  }

  /** How the lists were last served, the mode and the role (for the screens' banner). */
  async state(): Promise<SyncState> {
    const lists = Object.fromEntries(
      (['projects', 'destinations', 'schedules', 'runs', 'backups'] as const).map((l) => [
        l,
        this.served.get(l) ?? null,
      ]),
    ) as SyncState['lists'];
    if (!(await this.active())) return { mode: 'local', organization: null, lists };
    return { mode: 'server', organization: await this.o.service().membership(), lists };
  }

  /**
   * A server list, or none with the reason: never synced and unreachable, signed out,
   * or refused. The local rows are then shown alone, never an error instead of them.
   */
  private async read(kind: SyncList): Promise<Served> {
    try {
      const listed = await this.o.service().list(kind);
      if (!listed.available) return { items: [], indicator: LOCAL };
      return {
        items: listed.items,
        indicator: {
          source: 'server',
          syncedAt: listed.syncedAt,
          offline: listed.offline,
          problem: listed.problem,
        },
      };
    } catch (error) {
      if (!isAppError(error)) throw error;
      return {
        items: [],
        indicator: {
          source: 'local',
          syncedAt: null,
          offline: isTransient(error),
          problem: toErrorData(error) as ErrorData,
        },
      };
    }
  }

  /** Runs `merge` in sync mode and remembers how the list was served; else the local rows. */
  private async serve<T>(
    list: SyncedList,
    local: T[],
    mergeWith: () => Promise<{ rows: WithOrigin<T>[]; indicator: SyncIndicator }>,
  ): Promise<WithOrigin<T>[]> {
    if (!(await this.active())) {
      this.served.set(list, LOCAL);
      return local as WithOrigin<T>[];
    }
    const { rows, indicator } = await mergeWith();
    this.served.set(list, indicator);
    return rows;
  }

  /**
   * The values of `field` in the bodies of the actions the offline queue still holds on
   * these kinds (`projects.create` …): read once per list, looked up per row.
   */
  private queued(kinds: string[], field: string): Set<unknown> {
    const values = new Set<unknown>();
    for (const item of this.o.service().queue()) {
      if (!kinds.some((k) => item.action.startsWith(`${k}.`))) continue;
      const value = (item.body as Row | null | undefined)?.[field];
      if (value !== undefined) values.add(field === 'startedAt' ? iso(value) : value);
    }
    return values;
  }

  /**
   * Server id → local id for projects and destinations (by the same keys as their lists),
   * from the last synced lists: schedules, runs and backups name them by server id.
   */
  private async links(): Promise<{
    project: (serverId: unknown) => string | null;
    destination: (serverId: unknown) => string | null;
    projects: Row[];
    schedules: Row[];
  }> {
    const service = this.o.service();
    const [projects, destinations, schedules] = await Promise.all(
      (['projects', 'destinations', 'schedules'] as const).map((k) => service.cachedList(k)),
    );
    const catalog = this.o.catalog();
    /** Server id → local id, where the same key is set up here. */
    const idsBy = (server: Row[], field: string, local: Map<unknown, string>) =>
      new Map(
        server.flatMap((row) => {
          const id = local.get(row[field]);
          return id === undefined ? [] : [[String(row.id), id] as const];
        }),
      );
    const projectIds = idsBy(
      projects!,
      'firebaseProjectId',
      new Map(catalog.projects.list().map((p) => [p.firebaseProjectId, p.id])),
    );
    const destinationIds = idsBy(
      destinations!,
      'url',
      new Map(catalog.destinations.list().map((d) => [d.url, d.id])),
    );
    const map = (ids: Map<string, string>) => (serverId: unknown) => {
      const id = str(serverId);
      return id === null ? null : (ids.get(id) ?? id);
    };
    return {
      project: map(projectIds),
      destination: map(destinationIds),
      projects: projects!,
      schedules: schedules!,
    };
  }

  projects(local: ProjectView[]): Promise<WithOrigin<ProjectView>[]> {
    return this.serve('projects', local, async () => {
      const { items, indicator } = await this.read('projects');
      const queued = this.queued(['projects'], 'firebaseProjectId');
      const rows = merge(local, items, {
        key: (l) => l.firebaseProjectId,
        serverKey: (s) => str(s.firebaseProjectId),
        prefer: (l, s) => l.name === s.name,
        pending: (l) => queued.has(l.firebaseProjectId),
        // Not set up on this machine: no credentials here, so default credentials if run.
        fromServer: (s) => ({
          id: String(s.id),
          name: str(s.name) ?? String(s.id),
          firebaseProjectId: str(s.firebaseProjectId) ?? '',
          databaseId: '(default)',
          connection: 'default-credentials' as const,
          emulatorHost: null,
          serviceAccountEmail: null,
          createdAt: iso(s.createdAt) ?? '',
        }),
      });
      return { rows, indicator };
    });
  }

  destinations(local: DestinationView[]): Promise<WithOrigin<DestinationView>[]> {
    return this.serve('destinations', local, async () => {
      const { items, indicator } = await this.read('destinations');
      const queued = this.queued(['destinations'], 'url');
      const rows = merge(local, items, {
        key: (l) => l.url,
        serverKey: (s) => str(s.url),
        pending: (l) => queued.has(l.url),
        // Its secret (if it needs one) is each member's own: none saved here yet.
        fromServer: (s) => ({
          id: String(s.id),
          name: str(s.name) ?? String(s.id),
          url: str(s.url) ?? '',
          kind: str(s.kind) ?? 'local',
          options: (s.options as Record<string, unknown> | undefined) ?? {},
          secretSaved: false,
          createdAt: iso(s.createdAt) ?? '',
        }),
      });
      return { rows, indicator };
    });
  }

  schedules(local: Schedule[]): Promise<WithOrigin<Schedule>[]> {
    return this.serve('schedules', local, async () => {
      const { items, indicator } = await this.read('schedules');
      const links = await this.links();
      const queued = this.queued(['schedules'], 'name');
      const rows = merge(local, items, {
        key: (l) => l.name,
        serverKey: (s) => str(s.name),
        pending: (l) => queued.has(l.name),
        fromServer: (s) => {
          // The server keeps the engine's own schedule fields; its bookkeeping is dropped.
          const { paused: _p, createdBy: _c, updatedAt: _u, ...fields } = s;
          return {
            ...(fields as unknown as Schedule),
            id: String(s.id),
            projectId: links.project(s.projectId) ?? '',
            destinationId: links.destination(s.destinationId) ?? '',
            createdAt: iso(s.createdAt) ?? '',
            lastScheduledFor: null,
          };
        },
      });
      return { rows, indicator };
    });
  }

  /**
   * The History list: local runs (already with advice and names) and the organisation's,
   * filtered as asked, newest first, at most `limit`.
   */
  runs(
    local: HistoryRun[],
    filter: {
      kind?: JobKind | undefined;
      status?: RunStatus | undefined;
      projectId?: string | undefined;
      scheduleId?: string | undefined;
      limit: number;
    },
  ): Promise<WithOrigin<HistoryRun>[]> {
    return this.serve('runs', local, async () => {
      const { items, indicator } = await this.read('runs');
      const links = await this.links();
      const names = (rows: Row[]) => new Map(rows.map((r) => [String(r.id), str(r.name)]));
      const projectNames = names(links.projects);
      const scheduleNames = names(links.schedules);
      const queuedBackups = this.queued(['runs'], 'backupId');
      const queuedStarts = this.queued(['runs'], 'startedAt');
      const runKey = (backupId: string | null, projectId: string | null, at: string | null) =>
        backupId ?? `${projectId}@${at}`;
      const rows = merge(local, items, {
        key: (l) => runKey(l.backupId, l.projectId, l.startedAt),
        serverKey: (s) => runKey(str(s.backupId), links.project(s.projectId), iso(s.startedAt)),
        pending: (l) =>
          (l.backupId !== null && queuedBackups.has(l.backupId)) ||
          (l.startedAt !== null && queuedStarts.has(l.startedAt)),
        fromServer: (s) => {
          const status = RUN_STATUS[String(s.status)] ?? 'failed';
          const message = str(s.errorMessage);
          const documents = num(s.documentCount);
          const run: Run = {
            id: String(s.id),
            kind: 'backup',
            status,
            trigger: s.scheduleId ? 'schedule' : 'manual',
            projectId: links.project(s.projectId),
            destinationId: links.destination(s.destinationId),
            scheduleId: str(s.scheduleId),
            backupId: str(s.backupId),
            scheduledFor: null,
            startedAt: iso(s.startedAt),
            finishedAt: iso(s.finishedAt),
            attempts: 1,
            // Under the engine's own name, so History and the charts read it as a local run's.
            counts: documents === null ? null : { 'firestore.documents': documents },
            bytes: num(s.bytes),
            error:
              message === null
                ? null
                : {
                    code: str(s.errorCode) ?? 'UNKNOWN',
                    message,
                    fault: 'system',
                    retryable: true,
                  },
            detail: { reportedBy: s.reportedBy ?? null },
          };
          return {
            ...run,
            advice: runAdvice(run),
            projectName: projectNames.get(String(s.projectId)) ?? null,
            scheduleName: scheduleNames.get(String(s.scheduleId)) ?? null,
          };
        },
      });
      const wanted = rows.filter(
        (r) =>
          r.origin?.where !== 'server' ||
          ((filter.kind === undefined || r.kind === filter.kind) &&
            (filter.status === undefined || r.status === filter.status) &&
            (filter.projectId === undefined || r.projectId === filter.projectId) &&
            (filter.scheduleId === undefined || r.scheduleId === filter.scheduleId)),
      );
      const at = (r: HistoryRun) => r.startedAt ?? r.scheduledFor ?? r.finishedAt ?? '';
      wanted.sort((a, b) => (at(a) < at(b) ? 1 : at(a) > at(b) ? -1 : 0));
      return { rows: wanted.slice(0, filter.limit), indicator };
    });
  }

  /**
   * The organisation's backups: its backup records, each joined to the finished run that
   * made it (by backup id, or else by project, size and document count: a record names
   * no destination), then finished runs no record accounts for. Ids are the engine's
   * backup ids when the server knows them, else the record's own.
   */
  private async sharedBackups(): Promise<{ backups: SharedBackup[]; indicator: SyncIndicator }> {
    const [records, runs] = await Promise.all([this.read('backups'), this.read('runs')]);
    const links = await this.links();
    const projects = new Map(links.projects.map((p) => [String(p.id), p]));
    const finished = runs.items.filter((r) => r.status === 'finished' && str(r.backupId) !== null);
    const used = new Set<Row>();
    const here = new Map(
      this.o
        .catalog()
        .destinations.list()
        .map((d) => [d.url, d.id]),
    );
    // Where it lives: the record's own destination (id, else its URL, as set up here), or
    // for records made before the app sent one, the destination of the run that made it.
    const destinationOf = (row: Row, run: Row | undefined): string | null => {
      const serverId = row.destinationId ?? run?.destinationId;
      const local = links.destination(serverId);
      if (local !== null && local !== serverId) return local;
      return here.get(str(row.destinationUrl) ?? '') ?? local;
    };
    const shared = (row: Row, run: Row | undefined, id: string): SharedBackup => ({
      id,
      serverId: String(row.id),
      destinationId: destinationOf(row, run),
      project: str(projects.get(String(row.projectId))?.firebaseProjectId),
      createdAt: iso(run?.startedAt ?? row.startedAt) ?? iso(row.createdAt) ?? '',
      completedAt: iso(run?.finishedAt ?? row.finishedAt),
      keyId: str(row.keyId) ?? '',
      bytes: num(row.sizeBytes) ?? num(row.bytes) ?? num(run?.bytes),
      documents: num(row.documentCount) ?? num(run?.documentCount),
      destinationServerId: str(row.destinationId ?? run?.destinationId),
      destinationUrl: str(row.destinationUrl),
      sources: Array.isArray(row.sources) ? row.sources.map(String) : null,
      projectServerId: str(row.projectId),
      recordedBy: str(row.createdBy),
      run:
        run === undefined
          ? null
          : {
              id: String(run.id),
              status: RUN_STATUS[String(run.status)] ?? 'failed',
              startedAt: iso(run.startedAt),
              finishedAt: iso(run.finishedAt),
              reportedBy: str(run.reportedBy),
            },
    });
    const backups: SharedBackup[] = [];
    for (const record of records.items) {
      const backupId = str(record.backupId);
      const run = finished.find(
        (r) =>
          !used.has(r) &&
          (backupId !== null
            ? r.backupId === backupId
            : r.projectId === record.projectId &&
              num(r.bytes) === num(record.sizeBytes) &&
              num(r.documentCount) === num(record.documentCount)),
      );
      if (run !== undefined) used.add(run);
      backups.push(shared(record, run, backupId ?? str(run?.backupId) ?? String(record.id)));
    }
    for (const run of finished)
      if (!used.has(run))
        backups.push(
          shared(
            { ...run, keyId: null, createdBy: null, sources: null },
            run,
            String(run.backupId),
          ),
        );
    const indicator = records.indicator.source === 'server' ? records.indicator : runs.indicator;
    return { backups, indicator };
  }

  /**
   * The backups of one destination: what its storage holds (none when the destination is
   * only the organisation's) and the organisation's backups placed there. One known only
   * to the server is listed (not readable here) rather than hidden.
   */
  backups(destinationId: string, local: BackupSummary[]): Promise<WithOrigin<BackupSummary>[]> {
    return this.serve('backups', local, async () => {
      const { backups, indicator } = await this.sharedBackups();
      // Made here and not reported yet: its run (or record) waits in the queue.
      const queued = this.queued(['runs', 'backups'], 'backupId');
      const here = backups
        .filter((b) => b.destinationId === destinationId && BACKUP_ID_PATTERN.test(b.id))
        .map((b) => b as unknown as Row);
      const rows = merge(local, here, {
        key: (l) => l.id,
        serverKey: (s) => str(s.id),
        serverId: (s) => str(s.serverId),
        pending: (l) => queued.has(l.id),
        fromServer: (s) => {
          const b = s as unknown as SharedBackup;
          return {
            id: b.id,
            createdAt: b.createdAt,
            keyId: b.keyId,
            size: b.bytes ?? 0,
            // The archive may be elsewhere, or the key another member's: not read here.
            readable: false,
            ...(b.project !== null ? { project: b.project } : {}),
            ...(b.documents !== null ? { documents: b.documents } : {}),
            ...(b.completedAt !== null ? { completedAt: b.completedAt } : {}),
          };
        },
      });
      return { rows, indicator };
    });
  }

  /**
   * One backup as the organisation's server knows it (its detail when this machine cannot
   * read it): the record and the run that made it, with the names the server's other
   * lists give (project, destination and its URL, the members who made and reported it).
   * `destinationId` is the one its list row carries (this machine's id where the
   * destination is set up here, else the server's).
   */
  async sharedBackup(
    destinationId: string,
    backupId: string,
  ): Promise<{
    backup: SharedBackup;
    projectName: string | null;
    destination: { name: string | null; url: string | null };
    who: (userId: string | null) => string | null;
    indicator: SyncIndicator;
  }> {
    if (!(await this.active()))
      throw new AppError(
        'FAILED_PRECONDITION',
        `Backup ${backupId} is only known to an organisation server, and this machine is not signed in to one. Sign in under Team, pick the organisation, then open it again.`,
      );
    const { backups, indicator } = await this.sharedBackups();
    const backup = backups.find(
      (b) =>
        b.id === backupId &&
        // '': a backup whose destination neither this machine nor the server knows by id.
        ((b.destinationId ?? '') === destinationId || b.destinationServerId === destinationId),
    );
    if (backup === undefined)
      throw new AppError(
        'NOT_FOUND',
        `The organisation server knows no backup ${backupId} in that destination (deleted, or not reported yet). Refresh the Backups list.`,
      );
    const service = this.o.service();
    const [projects, destinations, members] = await Promise.all(
      (['projects', 'destinations', 'members'] as const).map((k) => service.cachedList(k)),
    );
    const byId = (rows: Row[], id: string | null) => rows.find((r) => String(r.id) === id);
    const destination = byId(destinations!, backup.destinationServerId);
    return {
      backup,
      projectName: str(byId(projects!, backup.projectServerId)?.name),
      destination: {
        name: str(destination?.name),
        url: backup.destinationUrl ?? str(destination?.url),
      },
      who: (userId) => {
        if (userId === null) return null;
        const member = members!.find((m) => m.userId === userId);
        return str(member?.email) ?? userId;
      },
      indicator,
    };
  }

  /**
   * The Backups screen's search (every destination): the catalog's rows and the
   * organisation's, filtered alike, newest first; `sync` says how it was served.
   */
  async search(
    local: BackupRow[],
    matches: (row: BackupRow) => boolean,
    limit: number,
  ): Promise<{ backups: WithOrigin<BackupRow>[]; total: number; sync?: SyncIndicator }> {
    let indicator: SyncIndicator = LOCAL;
    const rows = await this.serve('backups', local, async () => {
      const shared = await this.sharedBackups();
      const queued = this.queued(['runs', 'backups'], 'backupId');
      indicator = shared.indicator;
      const server = shared.backups.map((b) => b as unknown as Row);
      const merged = merge(local, server, {
        key: (l) => `${l.destinationId}/${l.id}`,
        serverKey: (s) => `${String(s.destinationId ?? '')}/${String(s.id)}`,
        serverId: (s) => str(s.serverId),
        pending: (l) => queued.has(l.id),
        fromServer: (s) => {
          const b = s as unknown as SharedBackup;
          return {
            destinationId: b.destinationId ?? '',
            id: b.id,
            project: b.project,
            database: null,
            scheduleId: null,
            createdAt: b.createdAt,
            documents: b.documents,
            bytes: b.bytes,
            verifyState: 'unverified' as const,
            verifiedAt: null,
            verifyError: null,
          };
        },
      });
      const shown = merged.filter((r) => r.origin?.where !== 'server' || matches(r));
      shown.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      return { rows: shown, indicator };
    });
    return {
      backups: rows.slice(0, limit),
      total: rows.length,
      ...(indicator === LOCAL && !(await this.active()) ? {} : { sync: indicator }),
    };
  }
}

/** A backup the organisation's server knows of (a record, a finished run, or both). */
export interface SharedBackup {
  id: string;
  serverId: string;
  destinationId: string | null;
  project: string | null;
  createdAt: string;
  completedAt: string | null;
  keyId: string;
  bytes: number | null;
  documents: number | null;
  /** The sources it holds, when its record says (older records do not). */
  sources: string[] | null;
  /** The destination and project as the server names them. */
  destinationServerId: string | null;
  /** The destination's URL as the record names it (null on records made before it did). */
  destinationUrl: string | null;
  projectServerId: string | null;
  /** The member who recorded it (server user id), and the run that made it. */
  recordedBy: string | null;
  run: {
    id: string;
    status: RunStatus;
    startedAt: string | null;
    finishedAt: string | null;
    reportedBy: string | null;
  } | null;
}
