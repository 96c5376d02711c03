/**
 * Regroups a download's chunks (tens of KiB each, as the socket delivers them) into
 * content records of exactly `size` bytes, the last one shorter. Few large records
 * instead of many small ones: each record costs a trip through the async generators
 * between the download and the archive writer, and a record prefix.
 *
 * The records are filled in buffers that are reused (one batcher serves a whole
 * listing), so a backup does not allocate a fresh megabyte per record (each one external
 * memory for the collector to sweep and new pages for the kernel to fault in). A record
 * that is one downloaded chunk (a small object) is that chunk, and a short last record
 * is copied out: neither ties up a buffer. Ownership: a record is the consumer's until it
 * calls the record's `release()`; only then may its buffer be filled again. A consumer
 * that never releases (one that keeps the records) just gets fresh buffers: nothing is
 * reused behind its back. Chunks are copied in as they come, so each downloaded chunk
 * is garbage at once, as before (keeping chunks alive until the writer copied them cost
 * the collector more than the copy: see docs/benchmarks.md).
 */
export interface ContentRecord {
  bytes: Buffer;
  /** Gives the buffer back for reuse; `bytes` must not be read afterwards. Idempotent. */
  release(): void;
}

/** At most this many released buffers are kept for reuse (the rest go to the collector). */
const POOL_LIMIT = 4;
/** A last record of at most 1/4 of a buffer is copied out rather than handed over. */
const SMALL_TAIL_FRACTION = 4;

const unpooled = (bytes: Buffer): ContentRecord => ({ bytes, release: () => undefined });

export class ContentBatcher {
  private readonly free: Buffer[] = [];
  private current: Buffer | undefined;
  /** The record's only chunk so far, not yet copied anywhere. */
  private first: Buffer | undefined;
  private held = 0;

  constructor(private readonly size: number) {}

  /** Takes a chunk; returns the records it completes (often none). */
  add(chunk: Buffer): ContentRecord[] {
    const full: ContentRecord[] = [];
    let rest = chunk;
    // A chunk that is a record on its own is passed on as is: no copy, nothing to reuse.
    while (this.held === 0 && rest.length >= this.size) {
      full.push(unpooled(rest.subarray(0, this.size)));
      rest = rest.subarray(this.size);
    }
    if (rest.length === 0) return full;
    // A first chunk is only kept: if the object ends with it (most small objects), it is
    // the record as it is, and no pooled megabyte is tied up for a few bytes.
    if (this.held === 0) {
      this.first = rest;
      this.held = rest.length;
      return full;
    }
    if (this.first) {
      this.current ??= this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
      this.first.copy(this.current, 0);
      this.first = undefined;
    }
    while (rest.length > 0) {
      this.current ??= this.free.pop() ?? Buffer.allocUnsafeSlow(this.size);
      const n = rest.copy(this.current, this.held);
      this.held += n;
      rest = rest.subarray(n);
      if (this.held === this.size) full.push(this.take());
    }
    return full;
  }

  /** What is held, as a last record; undefined when nothing is. */
  flush(): ContentRecord | undefined {
    if (this.held === 0) return undefined;
    if (this.first) {
      const record = unpooled(this.first);
      this.first = undefined;
      this.held = 0;
      return record;
    }
    if (this.held <= this.size / SMALL_TAIL_FRACTION) {
      // A short last record is copied out, and its buffer stays for the next object:
      // a consumer that keeps records does not hold a megabyte for each short one.
      const copy = Buffer.allocUnsafeSlow(this.held);
      this.current!.copy(copy, 0, 0, this.held);
      const record = unpooled(copy);
      this.held = 0;
      return record;
    }
    return this.take();
  }

  private take(): ContentRecord {
    const buffer = this.current!;
    const bytes = buffer.subarray(0, this.held);
    this.current = undefined;
    this.held = 0;
    let released = false;
    return {
      bytes,
      release: () => {
        if (released) return;
        released = true;
        if (this.free.length < POOL_LIMIT) this.free.push(buffer);
      },
    };
  }
}
