import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { AppError } from '../../shared/errors.js';
import type { Db } from '../catalog/db.js';
import { systemClock, type Clock } from '../clock.js';

/**
 * Locks that survive crashes: one catalog row per lock name (e.g. "project:<id>") with
 * the owner's pid, host and a heartbeat time. A holder refreshes its heartbeat every
 * `heartbeatMs`; anyone may take over a lock whose heartbeat is older than
 * `staleAfterBeats` intervals (the holder hung or its machine slept) or whose owner pid
 * is gone on this host (crash, SIGKILL). Acquire runs in an IMMEDIATE sqlite transaction,
 * so two processes can never both see the lock free — which a lock file's
 * "check stale, then replace" cannot promise.
 */

export interface LockOptions {
  clock?: Clock;
  heartbeatMs?: number;
  staleAfterBeats?: number;
  /** Injected for tests; default asks the OS. */
  isPidAlive?: (pid: number) => boolean;
  pid?: number;
}

export interface LockHolder {
  owner: string;
  pid: number;
  host: string;
  acquiredAt: string;
  heartbeatAt: string;
}

export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Aborted if the lease is lost (another process judged it stale and took it). */
  readonly lost: AbortSignal;
  /** Refreshes the heartbeat now; false if the lock is no longer ours. */
  heartbeat(): boolean;
  release(): void;
}

export const DEFAULT_HEARTBEAT_MS = 15_000;
export const DEFAULT_STALE_AFTER_BEATS = 4;

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface LockRow {
  owner: string;
  pid: number;
  host: string;
  acquired_at: string;
  heartbeat_at: string;
}

export class LockManager {
  private readonly clock: Clock;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly pidAlive: (pid: number) => boolean;
  private readonly pid: number;
  private readonly host = os.hostname();

  readonly #db: Db | (() => Db);

  /** `db`: the catalog's database, or a function giving it (it changes when the catalog moves). */
  constructor(db: Db | (() => Db), options: LockOptions = {}) {
    this.#db = db;
    this.clock = options.clock ?? systemClock;
    this.heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
    this.staleMs = this.heartbeatMs * (options.staleAfterBeats ?? DEFAULT_STALE_AFTER_BEATS);
    this.pidAlive = options.isPidAlive ?? isPidAlive;
    this.pid = options.pid ?? process.pid;
  }

  private get db(): Db {
    return typeof this.#db === 'function' ? this.#db() : this.#db;
  }

  holder(name: string): LockHolder | undefined {
    const row = this.db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as
      LockRow | undefined;
    return row && toHolder(row);
  }

  /** Takes the lock if it is free or stale; otherwise returns who holds it. */
  tryAcquire(name: string): { lease: Lease } | { heldBy: LockHolder } {
    const owner = `${this.host}:${this.pid}:${randomBytes(6).toString('hex')}`;
    const now = this.clock.now();
    const result = this.db
      .transaction((): LockRow | undefined => {
        const row = this.db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as
          LockRow | undefined;
        if (row && !this.isStale(row, now)) return row;
        this.db
          .prepare(
            `INSERT INTO locks (name, owner, pid, host, acquired_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host,
               acquired_at = excluded.acquired_at, heartbeat_at = excluded.heartbeat_at`,
          )
          .run(name, owner, this.pid, this.host, now.toISOString(), now.toISOString());
        return undefined;
      })
      .immediate();
    if (result) return { heldBy: toHolder(result) };
    return { lease: this.startLease(name, owner) };
  }

  /** Like tryAcquire, but an AppError (retryable ABORTED) that names the holder. */
  acquire(name: string, what = name): Lease {
    const got = this.tryAcquire(name);
    if ('lease' in got) return got.lease;
    const h = got.heldBy;
    throw new AppError(
      'ABORTED',
      `${what} is busy: process ${h.pid} on ${h.host} has been running since ${h.acquiredAt}. It will be retried; if that process is stuck, stop it (its lock expires ${Math.round(this.staleMs / 1000)} s after its last heartbeat).`,
    );
  }

  private isStale(row: LockRow, now: Date): boolean {
    if (now.getTime() - Date.parse(row.heartbeat_at) > this.staleMs) return true;
    // Only a pid on this host can be checked; elsewhere the heartbeat decides.
    return row.host === this.host && !this.pidAlive(row.pid);
  }

  private startLease(name: string, owner: string): Lease {
    const lost = new AbortController();
    const stopBeating = new AbortController();
    const heartbeat = (): boolean => {
      if (lost.signal.aborted) return false;
      const changes = this.db
        .prepare('UPDATE locks SET heartbeat_at = ? WHERE name = ? AND owner = ?')
        .run(this.clock.now().toISOString(), name, owner).changes;
      if (changes === 0) {
        lost.abort(
          new AppError(
            'ABORTED',
            `Lost the lock "${name}": another process took it over after missed heartbeats.`,
          ),
        );
      }
      return changes > 0;
    };
    const beat = async (): Promise<void> => {
      while (!stopBeating.signal.aborted && !lost.signal.aborted) {
        try {
          await this.clock.sleep(this.heartbeatMs, stopBeating.signal);
        } catch {
          return;
        }
        heartbeat();
      }
    };
    void beat();
    return {
      name,
      owner,
      lost: lost.signal,
      heartbeat,
      release: () => {
        stopBeating.abort();
        this.db.prepare('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner);
      },
    };
  }
}

const toHolder = (r: LockRow): LockHolder => ({
  owner: r.owner,
  pid: r.pid,
  host: r.host,
  acquiredAt: r.acquired_at,
  heartbeatAt: r.heartbeat_at,
});

export const projectLockName = (projectId: string): string => `project:${projectId}`;
