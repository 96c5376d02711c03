import type { Progress, ProgressListener } from '../../shared/progress.js';

/**
 * Counts items and bytes for one phase and reports rates and ETA to a listener, at most
 * every `intervalMs` (and always at phase changes and the end).
 */
export class ProgressMeter {
  private items = 0;
  private bytes = 0;
  private started = performance.now();
  private lastEmit = 0;
  private unit: string | undefined;

  constructor(
    private readonly listener: ProgressListener | undefined,
    private phase: string,
    private itemsTotal?: number,
    private readonly intervalMs = 250,
  ) {}

  setTotal(total: number | undefined): void {
    this.itemsTotal = total;
  }

  /** A new phase, counting from zero; `unit` names its items (Progress.unit). */
  startPhase(phase: string, itemsTotal?: number, unit?: string): void {
    this.phase = phase;
    this.itemsTotal = itemsTotal;
    this.unit = unit;
    this.items = 0;
    this.bytes = 0;
    this.started = performance.now();
    this.emit(true);
  }

  add(items: number, bytes = 0): void {
    this.items += items;
    this.bytes += bytes;
    this.emit(false);
  }

  snapshot(): Progress {
    const seconds = Math.max((performance.now() - this.started) / 1000, 1e-3);
    const itemsPerSecond = this.items / seconds;
    const progress: Progress = {
      phase: this.phase,
      items: this.items,
      ...(this.unit ? { unit: this.unit } : {}),
      bytes: this.bytes,
      itemsPerSecond,
      bytesPerSecond: this.bytes / seconds,
    };
    if (this.itemsTotal !== undefined) {
      progress.itemsTotal = this.itemsTotal;
      if (itemsPerSecond > 0)
        progress.etaSeconds = Math.max(0, (this.itemsTotal - this.items) / itemsPerSecond);
    }
    return progress;
  }

  /** Moves to a new phase keeping the counts (a short step at the end of a long one). */
  setPhase(phase: string): void {
    this.phase = phase;
    this.emit(true);
  }

  /** Reports the end: the last phase's counts, under the phase "done". */
  done(): void {
    this.phase = 'done';
    this.emit(true);
  }

  /** Reports now, whatever the interval. */
  flush(): void {
    this.emit(true);
  }

  private emit(force: boolean): void {
    if (!this.listener) return;
    const now = performance.now();
    if (!force && now - this.lastEmit < this.intervalMs) return;
    this.lastEmit = now;
    this.listener(this.snapshot());
  }
}
