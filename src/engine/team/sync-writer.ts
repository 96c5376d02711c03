import type { Catalog } from '../catalog/catalog.js';
import type { CatalogChange } from '../catalog/changes.js';
import type { DestinationRecord, ProjectRecord } from '../catalog/projects.js';
import type { JobSpec } from '../jobs/job-manager.js';
import { existsSync } from 'node:fs';
import { FileSecretStore, type SecretStore } from '../secrets/secret-store.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { TERMINAL_STATUSES, type Run } from '../../shared/jobs.js';
import type { Schedule } from '../../shared/schedules.js';
import { withoutCredentials } from '../storage/wrappers/redact.js';
import { TeamClient } from './client.js';
import { loadTeamCredentials } from './credentials.js';
import { localRef, optionalRefToken, refToken, type LocalKind } from './local-refs.js';
import { TeamLocalStore, teamStorePath, type OutboxItem } from './local-store.js';
import { TeamService } from './service.js';

/**
 * The write side of team sync mode (ADR 0016). In sync mode (signed in, organisation
 * picked) every change of the shared state the catalog tells (catalog/changes.ts) is put
 * in the offline queue in the same turn — durable before the next statement runs — and
 * the queue is then sent in order (TeamService.deliver): projects, destinations (URL and
 * non-secret options: secrets live in the secret store, which this never reads),
 * schedules, backup runs (started, then finished or failed) and the backup record of each
 * successful backup. Outside sync mode it does nothing and creates no file.
 *
 * Backups ask the server first (authorize): the run's start is delivered before any work,
 * so the server's role check decides and audits; offline, the role last seen decides.
 */

interface Scope {
  serverUrl: string;
  orgId: string;
  userId: string;
}

/** How each shared record is created and changed on the server. */
const KINDS = {
  project: {
    path: '/projects',
    plural: 'projects',
    create: (p: ProjectRecord) => ({ name: p.name, firebaseProjectId: p.firebaseProjectId }),
    update: (p: ProjectRecord) => ({ name: p.name, firebaseProjectId: p.firebaseProjectId }),
  },
  destination: {
    path: '/destinations',
    plural: 'destinations',
    create: (d: DestinationRecord) => ({ name: d.name, url: d.url, options: d.options }),
    // Its URL is its identity on the server: a rename or new options only.
    update: (d: DestinationRecord) => ({ name: d.name, options: d.options }),
  },
  schedule: {
    path: '/schedules',
    plural: 'schedules',
    create: scheduleBody,
    update: scheduleBody,
  },
} as const;
type SharedKind = keyof typeof KINDS;

function scheduleBody(s: Schedule) {
  const { id: _id, createdAt: _c, lastScheduledFor: _l, projectId, destinationId, ...rest } = s;
  return {
    ...rest,
    projectId: refToken('project', projectId),
    destinationId: refToken('destination', destinationId),
  };
}

/** A run as the server keeps it: started, finished or failed (with the engine's code). */
function runOutcome(run: Run) {
  const ok = run.status === 'succeeded';
  const documents = run.counts?.['firestore.documents'];
  return {
    status: ok ? ('finished' as const) : ('failed' as const),
    ...(run.finishedAt !== null ? { finishedAt: run.finishedAt } : {}),
    ...(documents !== undefined ? { documentCount: documents } : {}),
    ...(run.bytes !== null ? { bytes: run.bytes } : {}),
    ...(run.backupId !== null ? { backupId: run.backupId } : {}),
    ...(ok
      ? {}
      : {
          errorMessage: (run.error?.message ?? `The run ended ${run.status}.`).slice(0, 4000),
          errorCode: run.error?.code ?? run.status.toUpperCase(),
        }),
  };
}

function runStart(run: Run) {
  return {
    projectId: refToken('project', run.projectId!),
    ...(run.scheduleId !== null
      ? { scheduleId: optionalRefToken('schedule', run.scheduleId) }
      : {}),
    ...(run.destinationId !== null
      ? { destinationId: optionalRefToken('destination', run.destinationId) }
      : {}),
    startedAt: run.startedAt ?? run.scheduledFor ?? new Date().toISOString(),
  };
}

export interface SyncWriterOptions {
  catalog: Catalog;
  /** Where the member's team sign-in is kept (read only; destination secrets are not). */
  signIn: SecretStore;
  /** The app data folder: team.sqlite is there. */
  dataDir: string;
  fetch?: typeof fetch;
  log?: (message: string) => void;
  /** How often undelivered actions are tried again without anyone asking (default 60 s). */
  retryMs?: number;
}

/** How often a daemon (or app) left with undelivered actions tries again. */
export const SYNC_RETRY_MS = 60_000;

export class SyncWriter {
  /** undefined: not read yet; null: not in sync mode. */
  #scope: Scope | null | undefined;
  #service: TeamService | undefined;
  /** Changes waiting for the sign-in to be read, in order. */
  #work: Promise<void> = Promise.resolve();
  #waiting = 0;
  #delivery: Promise<unknown> = Promise.resolve();
  /** A delivery is asked for and has not started yet (later asks join it). */
  #kickPending = false;
  #queued = false;
  #reread: Promise<void> | undefined;
  /** Backups authorize refused: their end is not reported (they never started). */
  readonly #refused = new Set<string>();
  #closed = false;
  readonly #unsubscribe: () => void;
  readonly #timer: NodeJS.Timeout;

  constructor(private readonly o: SyncWriterOptions) {
    this.#unsubscribe = o.catalog.onChange((change) => this.#record(change));
    this.#later(async () => {
      await this.refresh();
      // Whatever an earlier process left queued goes now.
      if (this.#scope) this.#kick();
    });
    this.#timer = setInterval(() => {
      if (this.#scope) this.#kick();
    }, o.retryMs ?? SYNC_RETRY_MS);
    this.#timer.unref();
  }

  /** Reads the sign-in again (after login, logout or another organisation was picked). */
  async refresh(): Promise<void> {
    const credentials = await loadTeamCredentials(this.o.signIn).catch(() => undefined);
    this.#scope =
      credentials?.organizationId != null
        ? {
            serverUrl: credentials.serverUrl,
            orgId: credentials.organizationId,
            userId: credentials.user.id,
          }
        : null;
  }

  /** The queue (pending and refused actions of every sign-in on this machine). */
  queue(): OutboxItem[] {
    return this.#scope ? this.service().queue() : [];
  }

  /** Sends the queue now. */
  async deliver(): Promise<{ delivered: number; remaining: number }> {
    await this.#work;
    if (!this.#scope) return { delivered: 0, remaining: 0 };
    return this.service().deliver();
  }

  /** Resolves when every change told so far is queued and the delivery under way ended. */
  async settled(): Promise<void> {
    await this.#reread;
    await this.#work;
    await this.#delivery;
  }

  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#timer);
    const service = this.#service;
    this.#service = undefined;
    if (service !== undefined) void this.settled().finally(() => service.store.close());
  }

  /**
   * Before a backup runs in sync mode: its start is delivered to the server, whose role
   * check (and audit) decides. Refused: the backup must not run. Unreachable: the start is
   * queued and the role last seen decides; never seen, it runs and the server judges the
   * report when it arrives (a refusal then stays in the queue, failed, for the member).
   */
  async authorize(spec: JobSpec, runId: string): Promise<void> {
    if (spec.kind !== 'backup' || !this.#mayBeSignedIn()) return;
    await this.settled();
    await this.refresh();
    const scope = this.#scope;
    const run = this.o.catalog.runs.get(runId);
    if (!scope || run === undefined || run.projectId === null) return;
    const service = this.service();
    this.#ensureRefs(scope, run);
    let submitted;
    try {
      submitted = await service.submit(
        'runs.start',
        'POST',
        '/runs',
        { ...runStart(run), status: 'started' },
        localRef('run', run.id),
      );
    } catch (error) {
      if (!isAppError(error)) throw error;
      this.#refused.add(run.id);
      await this.#rememberRole(service);
      throw new AppError(
        error.code,
        `The organisation server refused to start this backup: ${error.message}`,
      );
    }
    if (!submitted.queued) return this.#rememberRole(service);
    const known = await service.lastKnownRole().catch(() => undefined);
    if (known !== undefined && !known.allowed('backups:create')) {
      service.discard(submitted.seq);
      this.#refused.add(run.id);
      throw new AppError(
        'PERMISSION_DENIED',
        `The organisation server cannot be reached, and your last known role there (${known.role}) may not run backups. Ask an owner or admin for the member role.`,
      );
    }
  }

  /**
   * False only when no sign-in can exist (its file is absent), known without waiting: a
   * backup outside sync mode then starts as promptly as without a sync writer. (An old
   * sign-in in the legacy store is adopted into that file by the first refresh, at start.)
   */
  #mayBeSignedIn(): boolean {
    const store = this.o.signIn;
    return !(store instanceof FileSecretStore) || existsSync(store.file);
  }

  /** The role the server holds now, kept for deciding offline (one GET /me per backup). */
  async #rememberRole(service: TeamService): Promise<void> {
    await service.organizations().catch(() => undefined);
  }

  // --- from catalog changes to queued actions ----------------------------------------------

  #record(change: CatalogChange): void {
    if (this.#waiting === 0 && this.#scope) {
      this.#apply(this.#scope, change);
      // Another front end may have signed out or picked another organisation meanwhile:
      // read the sign-in again for the next change (once per burst of changes).
      // Not through #later: the changes that follow are still queued in their own turn.
      this.#reread ??= this.refresh().finally(() => (this.#reread = undefined));
      return;
    }
    this.#later(async () => {
      if (!this.#scope) await this.refresh();
      if (this.#scope) this.#apply(this.#scope, change);
    });
  }

  #later(task: () => Promise<void>): void {
    this.#waiting++;
    this.#work = this.#work
      .then(task)
      .catch((error: unknown) => this.#warn(error))
      .finally(() => this.#waiting--);
  }

  /** A failure here never undoes the local write (already committed): it is logged. */
  #apply(scope: Scope, change: CatalogChange): void {
    if (this.#closed) return;
    try {
      this.#queued = false;
      this.#queueFor(scope, change);
      if (this.#queued) this.#kick();
    } catch (error) {
      this.#warn(error);
    }
  }

  #queueFor(scope: Scope, change: CatalogChange): void {
    switch (change.kind) {
      case 'project.saved':
        return this.#save(scope, 'project', change.project.id, change.project);
      case 'destination.saved':
        return this.#save(scope, 'destination', change.destination.id, change.destination);
      case 'schedule.saved':
        this.#ensure(scope, 'project', change.schedule.projectId);
        this.#ensure(scope, 'destination', change.schedule.destinationId);
        return this.#save(scope, 'schedule', change.schedule.id, change.schedule);
      case 'project.removed':
        return this.#remove(scope, 'project', change.id);
      case 'destination.removed':
        return this.#remove(scope, 'destination', change.id);
      case 'schedule.removed':
        return this.#remove(scope, 'schedule', change.id);
      case 'run.saved':
        return this.#run(scope, change.run);
    }
  }

  #known(scope: Scope, kind: LocalKind, id: string): boolean {
    return this.service().store.isKnown(scope.serverUrl, scope.orgId, localRef(kind, id));
  }

  #enqueue(
    scope: Scope,
    action: string,
    method: OutboxItem['method'],
    path: string,
    body?: unknown,
    ref?: string,
  ): void {
    this.#queued = true;
    this.service().store.enqueue({
      ...scope,
      action,
      method,
      path,
      ...(body !== undefined ? { body } : {}),
      ...(ref !== undefined ? { localRef: ref } : {}),
    });
  }

  #save<K extends SharedKind>(
    scope: Scope,
    kind: K,
    id: string,
    record: Parameters<(typeof KINDS)[K]['create']>[0],
  ): void {
    const k = KINDS[kind] as {
      path: string;
      plural: string;
      create: (r: unknown) => unknown;
      update: (r: unknown) => unknown;
    };
    if (!this.#known(scope, kind, id))
      this.#enqueue(
        scope,
        `${k.plural}.create`,
        'POST',
        k.path,
        k.create(record),
        localRef(kind, id),
      );
    else
      this.#enqueue(
        scope,
        `${k.plural}.update`,
        'PATCH',
        `${k.path}/${refToken(kind, id)}`,
        k.update(record),
      );
  }

  /** Removed here: removed there too, when the server has it (or its creation is queued). */
  #remove(scope: Scope, kind: SharedKind, id: string): void {
    if (!this.#known(scope, kind, id)) return;
    const k = KINDS[kind];
    this.#enqueue(scope, `${k.plural}.delete`, 'DELETE', `${k.path}/${refToken(kind, id)}`);
  }

  /** A record made before sync mode was on, referred to now: created there first. */
  #ensure(scope: Scope, kind: SharedKind, id: string | null): void {
    if (id === null || this.#known(scope, kind, id)) return;
    const { catalog } = this.o;
    try {
      if (kind === 'project') this.#save(scope, kind, id, catalog.projects.get(id));
      else if (kind === 'destination') this.#save(scope, kind, id, catalog.destinations.get(id));
      else {
        const schedule = catalog.schedules.get(id);
        this.#ensure(scope, 'project', schedule.projectId);
        this.#ensure(scope, 'destination', schedule.destinationId);
        this.#save(scope, kind, id, schedule);
      }
    } catch (error) {
      // Gone locally meanwhile: the reference is judged at delivery.
      if (!isAppError(error) || error.code !== 'NOT_FOUND') throw error;
    }
  }

  #ensureRefs(scope: Scope, run: Run): void {
    this.#ensure(scope, 'project', run.projectId);
    this.#ensure(scope, 'destination', run.destinationId);
    this.#ensure(scope, 'schedule', run.scheduleId);
  }

  /**
   * Backup runs: the start once (authorize queues it; a run that starts without it, e.g.
   * a sign-in made while it ran, is reported here), the end once, and the backup record
   * of a success. Other kinds of run (restore, verify, check) stay local.
   */
  #run(scope: Scope, run: Run): void {
    if (run.kind !== 'backup' || run.projectId === null) return;
    const ref = localRef('run', run.id);
    const known = this.#known(scope, 'run', run.id);
    if (run.status === 'running') {
      if (known) return;
      this.#ensureRefs(scope, run);
      this.#enqueue(
        scope,
        'runs.start',
        'POST',
        '/runs',
        { ...runStart(run), status: 'started' },
        ref,
      );
      return;
    }
    if (!TERMINAL_STATUSES.includes(run.status)) return;
    // Refused before it started (authorize): the server has had its say, nothing to report.
    if (this.#refused.delete(run.id)) return;
    if (known)
      this.#enqueue(
        scope,
        'runs.finish',
        'PATCH',
        `/runs/${refToken('run', run.id)}`,
        runOutcome(run),
      );
    else {
      this.#ensureRefs(scope, run);
      this.#enqueue(
        scope,
        'runs.report',
        'POST',
        '/runs',
        { ...runStart(run), ...runOutcome(run) },
        ref,
      );
    }
    if (run.status === 'succeeded' && run.backupId !== null) {
      const documents = run.counts?.['firestore.documents'];
      // Which key reads it: what a member restoring it elsewhere must import (never the key).
      const keyId = run.detail?.keyId;
      const sources = run.detail?.sources;
      this.#enqueue(scope, 'backups.record', 'POST', '/backups', {
        projectId: refToken('project', run.projectId),
        backupId: run.backupId,
        ...(typeof keyId === 'string' ? { keyId } : {}),
        ...(Array.isArray(sources) ? { sources } : {}),
        ...(run.bytes !== null ? { sizeBytes: run.bytes } : {}),
        ...(documents !== undefined ? { documentCount: documents } : {}),
        ...this.#whereItLives(run.destinationId),
      });
    }
  }

  /**
   * Where a backup's archive lives, for its record: the destination's URL (as queued now,
   * so a later edit or removal here does not change what the record says) and the
   * server's id when it has that destination (dropped at delivery when it does not: a
   * member may not add destinations, and the record still goes, named by its URL).
   */
  #whereItLives(destinationId: string | null): { destinationId?: string; destinationUrl?: string } {
    if (destinationId === null) return {};
    let url: string | undefined;
    try {
      url = this.o.catalog.destinations.get(destinationId).url;
    } catch (error) {
      // Removed here meanwhile: the server's id (when it has it) still names it.
      if (!isAppError(error) || error.code !== 'NOT_FOUND') throw error;
    }
    return {
      destinationId: optionalRefToken('destination', destinationId),
      ...(url !== undefined ? { destinationUrl: withoutCredentials(url) } : {}),
    };
  }

  // --- the queue and its delivery ------------------------------------------------------------

  /** The team service over this machine's queue (opened on first use). */
  service(): TeamService {
    return (this.#service ??= new TeamService(
      new TeamClient({
        secrets: this.o.signIn,
        ...(this.o.fetch !== undefined ? { fetch: this.o.fetch } : {}),
      }),
      TeamLocalStore.open(teamStorePath(this.o.dataDir)),
    ));
  }

  /** Sends the queue in the background (what cannot go stays queued for later). */
  #kick(): void {
    if (this.#kickPending || this.#closed) return;
    this.#kickPending = true;
    // After the one under way: it may have looked at the queue before this change.
    this.#delivery = this.#delivery
      .then(() => {
        this.#kickPending = false;
        // The service, not only an open one: at start and on the timer nothing may have
        // opened it yet, and what an earlier process queued must still go.
        return this.#closed ? undefined : this.service().deliver();
      })
      .catch((error: unknown) => this.#warn(error));
  }

  #warn(error: unknown): void {
    const message = `Team sync: ${error instanceof Error ? error.message : String(error)}`;
    (this.o.log ?? ((m: string) => process.stderr.write(`${m}\n`)))(message);
  }
}
