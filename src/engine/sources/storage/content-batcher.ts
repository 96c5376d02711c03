/**
 * Regroups a download's chunks (tens of KiB each, as the socket delivers them) into
 * content records of exactly `size` bytes, the last one shorter. Few large records
 * instead of many small ones: each record costs a trip through the async generators
 * between the download and the archive writer, and a record prefix. At most one
 * record's worth of bytes is held.
 */
export class ContentBatcher {
  private parts: Buffer[] = [];
  private held = 0;

  constructor(private readonly size: number) {}

  /** Takes a chunk; returns the records it completes (often none). */
  add(chunk: Buffer): Buffer[] {
    const full: Buffer[] = [];
    let rest = chunk;
    while (this.held + rest.length >= this.size) {
      const take = this.size - this.held;
      this.parts.push(rest.subarray(0, take));
      full.push(this.take());
      rest = rest.subarray(take);
    }
    if (rest.length > 0) {
      this.parts.push(rest);
      this.held += rest.length;
    }
    return full;
  }

  /** What is held, as a last record; undefined when nothing is. */
  flush(): Buffer | undefined {
    return this.held > 0 ? this.take() : undefined;
  }

  private take(): Buffer {
    // A chunk that is a record on its own is passed on as is, without a copy.
    const record = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
    this.parts = [];
    this.held = 0;
    return record;
  }
}
