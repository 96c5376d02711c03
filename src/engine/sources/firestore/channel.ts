/**
 * A bounded many-producers / one-consumer queue. Producers await `push` when it is full,
 * which is what keeps memory flat: a slow consumer (compression, upload) slows the
 * readers down instead of letting pages pile up.
 */
export class BoundedChannel<T> {
  private readonly items: T[] = [];
  private readonly waitingProducers: (() => void)[] = [];
  private waitingConsumer: (() => void) | undefined;
  private closed = false;
  private failure: { error: unknown } | undefined;

  constructor(private readonly capacity: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.closed) {
      await new Promise<void>((resolve) => this.waitingProducers.push(resolve));
    }
    if (this.closed) return;
    this.items.push(item);
    this.wakeConsumer();
  }

  /** No more items will come; the consumer drains what is left. */
  close(): void {
    this.closed = true;
    this.wakeAll();
  }

  /** Ends the stream with an error; the consumer throws it after nothing else. */
  fail(error: unknown): void {
    if (!this.failure) this.failure = { error };
    this.items.length = 0;
    this.close();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        this.waitingProducers.shift()?.();
        yield item;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.waitingConsumer = resolve));
    }
  }

  private wakeConsumer(): void {
    const wake = this.waitingConsumer;
    this.waitingConsumer = undefined;
    wake?.();
  }

  private wakeAll(): void {
    this.wakeConsumer();
    for (const wake of this.waitingProducers.splice(0)) wake();
  }
}
