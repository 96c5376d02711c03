import { AppError } from '../../src/shared/errors.js';
import type { BackupFacts } from '../../src/engine/catalog/backups.js';
import type { Clock } from '../../src/engine/clock.js';
import type { BackupOutcome, EngineOps } from '../../src/engine/jobs/types.js';

/**
 * An in-memory stand-in for the engine operations, for unit tests of jobs and the
 * scheduler: backups "take" `durationMs` of the injected clock, report progress, honour
 * cancellation, and can be told to fail.
 */
export class FakeEngine implements EngineOps {
  /** Visible backups per destination id. */
  readonly stored = new Map<string, Map<string, BackupFacts>>();
  readonly calls: string[] = [];
  durationMs = 1000;
  /** Errors thrown by the next backups, in order (undefined = succeed). */
  failNext: (AppError | undefined)[] = [];
  /** Backup ids whose verification fails. */
  readonly corrupt = new Set<string>();
  /** Documents in the next backups, in order (undefined = 100). */
  documentsNext: (number | undefined)[] = [];
  running = 0;
  maxConcurrent = 0;
  private n = 0;

  constructor(private readonly clock: Clock) {}

  async backup(
    req: Parameters<EngineOps['backup']>[0],
    ctx: Parameters<EngineOps['backup']>[1],
  ): Promise<BackupOutcome> {
    this.calls.push(`backup:${req.project.name}`);
    this.running++;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.running);
    try {
      ctx.onProgress?.({
        phase: 'reading',
        items: 0,
        bytes: 0,
        itemsPerSecond: 0,
        bytesPerSecond: 0,
      });
      await this.clock.sleep(this.durationMs / 2, ctx.signal);
      ctx.onProgress?.({
        phase: 'reading',
        items: 50,
        itemsTotal: 100,
        bytes: 500,
        itemsPerSecond: 100,
        bytesPerSecond: 1000,
        etaSeconds: 0.5,
      });
      await this.clock.sleep(this.durationMs / 2, ctx.signal);
      const failure = this.failNext.shift();
      if (failure) throw failure;
      const createdAt = this.clock.now().toISOString();
      const id = `bkp_${String(++this.n).padStart(4, '0')}`;
      const facts: BackupFacts = {
        destinationId: req.destination.id,
        id,
        firebaseProjectId: req.project.firebaseProjectId,
        databaseId: req.project.databaseId,
        scheduleId: req.scheduleId ?? null,
        selection: { collections: req.scope.collections ?? [], exclude: req.scope.exclude ?? [] },
        createdAt,
        archiveKey: `${id}.fbk`,
        manifestKey: `${id}.fbm`,
        counts: { 'firestore.documents': this.documentsNext.shift() ?? 100 },
        bytes: 1234,
      };
      this.dest(req.destination.id).set(id, facts);
      ctx.onProgress?.({
        phase: 'done',
        items: 100,
        itemsTotal: 100,
        bytes: 1000,
        itemsPerSecond: 100,
        bytesPerSecond: 1000,
      });
      return {
        backupId: id,
        createdAt,
        archiveKey: facts.archiveKey,
        manifestKey: facts.manifestKey,
        counts: facts.counts!,
        bytes: 1234,
      };
    } finally {
      this.running--;
    }
  }

  async verify(
    req: Parameters<EngineOps['verify']>[0],
  ): Promise<{ ok: boolean; problem?: string }> {
    this.calls.push(`verify:${req.backupId}:${req.sample}`);
    if (!this.dest(req.destination.id).has(req.backupId))
      throw new AppError('NOT_FOUND', `no ${req.backupId}`);
    if (this.corrupt.has(req.backupId))
      throw new AppError('ARCHIVE_CORRUPT', `segment 2 of ${req.backupId} failed authentication`);
    return { ok: true };
  }

  async deleteBackup(destination: { id: string }, backupId: string): Promise<void> {
    this.calls.push(`delete:${backupId}`);
    this.dest(destination.id).delete(backupId);
  }

  async list(destination: { id: string }): Promise<BackupFacts[]> {
    return [...this.dest(destination.id).values()];
  }

  visible(destinationId: string): string[] {
    return [...this.dest(destinationId).keys()].sort();
  }

  private dest(id: string): Map<string, BackupFacts> {
    let m = this.stored.get(id);
    if (!m) this.stored.set(id, (m = new Map()));
    return m;
  }
}
