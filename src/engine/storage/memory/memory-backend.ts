import { Readable } from 'node:stream';
import {
  assertValidKey,
  bodyToBuffer,
  notFound,
  type GetOptions,
  type ObjectInfo,
  type PutBody,
  type StorageBackend,
} from '../backend.js';

interface Stored {
  data: Buffer;
  modified: Date;
}

/** Objects in a Map: for unit tests of the engine's own logic and as a conformance reference. */
export class MemoryBackend implements StorageBackend {
  readonly kind = 'memory';
  readonly capabilities = { rangeReads: true, remote: false };
  private readonly objects = new Map<string, Stored>();

  constructor(readonly displayUrl = 'memory://') {}

  async put(key: string, body: PutBody): Promise<ObjectInfo> {
    assertValidKey(key);
    // Collect first, then publish: a failing body stream leaves nothing behind.
    const data = await bodyToBuffer(body);
    const stored = { data, modified: new Date() };
    this.objects.set(key, stored);
    return { key, size: data.length, modified: stored.modified };
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const stored = this.lookup(key);
    const { start = 0, end = stored.data.length } = options?.range ?? {};
    return Readable.from([stored.data.subarray(start, end)]);
  }

  async stat(key: string): Promise<ObjectInfo> {
    const stored = this.lookup(key);
    return { key, size: stored.data.length, modified: stored.modified };
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    for (const [key, stored] of [...this.objects]) {
      if (key.startsWith(prefix))
        yield { key, size: stored.data.length, modified: stored.modified };
    }
  }

  async delete(key: string): Promise<void> {
    assertValidKey(key);
    this.objects.delete(key);
  }

  private lookup(key: string): Stored {
    assertValidKey(key);
    const stored = this.objects.get(key);
    if (!stored) throw notFound(this.displayUrl, key);
    return stored;
  }
}
