import type { Db } from './db/db.js';

/**
 * Links committed audit entries into their organisation's hash chain, after the requests
 * that wrote them have answered (ADR 0013). A request INSERTs its entry unlinked; the
 * linker gives each one, in insertion order, the next sequence number, the previous hash
 * and its own hash (migration 5's audit_link, under an advisory lock, so the linkers of
 * several instances take turns). Nothing is lost to a crash between the insert and the
 * link: entries wait in the table, and any linker (at start, on its timer) picks them up.
 */

/** Entries linked per transaction: keeps each one (and the lock it holds) short. */
const BATCH = 500;

/** Links every committed unlinked entry; returns how many it linked. */
export async function linkAudit(db: Db): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.system(async (tx) => {
      const [row] = await tx.query<{ n: number }>('SELECT audit_link($1) AS n', [BATCH]);
      return row?.n ?? 0;
    });
    total += n;
    if (n < BATCH) return total;
  }
}

export interface LinkerOptions {
  /** How often to link entries nobody kicked for (other instances', a crash's). */
  intervalMs?: number;
  /** How long a kick waits, so the entries of a burst of requests are linked together. */
  delayMs?: number;
}

export class AuditLinker {
  private timer: NodeJS.Timeout | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  /** The run in progress (or finished); runs never overlap within an instance. */
  private tail: Promise<unknown> = Promise.resolve();
  /** A run queued behind `tail`, not started yet: later callers can share it. */
  private queued: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly log: (line: string) => void,
    private readonly options: LinkerOptions = {},
  ) {}

  /** Links what a previous run (or a crash) left, then every intervalMs. */
  async start(): Promise<void> {
    await this.flush().catch((error: unknown) => this.report(error));
    this.timer = setInterval(() => this.kickNow(), this.options.intervalMs ?? 2000);
    this.timer.unref();
  }

  /** After an audited request committed: link soon, batched with its neighbours. */
  kick(): void {
    if (this.stopped || this.kickTimer !== undefined) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.kickNow();
    }, this.options.delayMs ?? 50);
    this.kickTimer.unref();
  }

  private kickNow(): void {
    if (!this.stopped) this.flush().catch((error: unknown) => this.report(error));
  }

  /**
   * Resolves once every entry committed before the call is linked. A run that has not
   * started yet sees everything committed before it starts, so callers share it.
   */
  flush(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    const run = this.tail.then(async () => {
      this.queued = undefined;
      await linkAudit(this.db);
    });
    this.queued = run;
    this.tail = run.catch(() => undefined);
    return run;
  }

  private report(error: unknown): void {
    this.log(
      `Audit linker: could not link new entries into the hash chain (will retry): ${(error as Error).message}`,
    );
  }

  /** Stops the timers and waits for a run in progress (the next start links the rest). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.kickTimer);
    await this.tail;
  }
}
