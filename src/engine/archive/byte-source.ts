import { corrupt } from './format.js';

/**
 * Exact-size reads over a stream of chunks, holding only what the current read needs.
 * `offset` is the position in the archive, for error messages.
 */
export class ByteSource {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /** Reads exactly n bytes; `what` names the part for the truncation message. */
  async read(n: number, what: string): Promise<Buffer> {
    while (this.buffered < n && (await this.pull()));
    if (this.buffered < n) {
      throw corrupt(
        `The archive is truncated: it ends inside ${what} (at byte ${this.offset + this.buffered}).`,
      );
    }
    const joined =
      this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const out = joined.subarray(0, n);
    const rest = joined.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.offset += n;
    return out;
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    while (this.buffered === 0 && (await this.pull()));
    return this.buffered === 0;
  }

  /** Stops reading the underlying stream early. */
  async close(): Promise<void> {
    await this.iterator.return?.();
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.iterator.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    if (chunk.length) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    return true;
  }
}
