import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppError } from '../../../shared/errors.js';
import type { GetOptions, ObjectInfo, PutBody, PutOptions, StorageBackend } from '../backend.js';
import { RemoteError } from '../wrappers/remote-errors.js';

export type FaultOp = 'put' | 'get' | 'stat' | 'list' | 'delete';

/** When a fault fires: on the nth call (1-based) of `op` (any op if omitted), or on every call. */
interface When {
  op?: FaultOp;
  nth?: number;
}

export type Fault = When &
  (
    | { type: 'fail'; error?: () => AppError }
    | { type: 'drop'; op: 'put' | 'get'; afterBytes: number }
    | { type: 'corrupt'; op: 'put' | 'get'; atByte: number }
    | { type: 'delay'; ms: number }
  );

/** What a dropped connection looks like after a back end maps it: retryable. */
export function injectedNetworkError(what = 'injected failure'): AppError {
  return new RemoteError('UNAVAILABLE', `${what}: network error (ECONNRESET).`);
}

/**
 * Wraps a real back end and injects faults: fail the nth call, drop a stream after some
 * bytes, flip one byte, or delay. For testing wrappers and engine code against the
 * failures remote storage really has, without mocking the back end itself.
 */
export class FaultyBackend implements StorageBackend {
  readonly kind: string;
  readonly displayUrl: string;
  readonly capabilities: StorageBackend['capabilities'];
  readonly calls: Record<FaultOp, number> = { put: 0, get: 0, stat: 0, list: 0, delete: 0 };
  private faults: Fault[];

  constructor(
    private readonly inner: StorageBackend,
    faults: Fault[] = [],
  ) {
    this.kind = inner.kind;
    this.displayUrl = inner.displayUrl;
    this.capabilities = inner.capabilities;
    this.faults = [...faults];
  }

  add(...faults: Fault[]): this {
    this.faults.push(...faults);
    return this;
  }

  clear(): void {
    this.faults = [];
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<ObjectInfo> {
    const active = await this.enter('put');
    let sent = body;
    for (const f of active) {
      if (f.type === 'drop') sent = dropAfter(sent, f.afterBytes);
      if (f.type === 'corrupt') sent = flipByte(sent, f.atByte);
    }
    return this.inner.put(key, sent, options);
  }

  async get(key: string, options?: GetOptions): Promise<Readable> {
    const active = await this.enter('get');
    let stream: AsyncIterable<Uint8Array> = await this.inner.get(key, options);
    for (const f of active) {
      if (f.type === 'drop') stream = dropAfter(stream, f.afterBytes);
      if (f.type === 'corrupt') stream = flipByte(stream, f.atByte);
    }
    return stream instanceof Readable ? stream : Readable.from(stream, { objectMode: false });
  }

  async stat(key: string): Promise<ObjectInfo> {
    await this.enter('stat');
    return this.inner.stat(key);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    await this.enter('list');
    yield* this.inner.list(prefix);
  }

  async delete(key: string): Promise<void> {
    await this.enter('delete');
    return this.inner.delete(key);
  }

  /** Counts the call, applies delays and failures, and returns the stream faults that fire. */
  private async enter(op: FaultOp): Promise<Fault[]> {
    const n = ++this.calls[op];
    const active = this.faults.filter(
      (f) => (f.op === undefined || f.op === op) && (f.nth === undefined || f.nth === n),
    );
    for (const f of active) {
      if (f.type === 'delay') await sleep(f.ms);
      if (f.type === 'fail') throw f.error?.() ?? injectedNetworkError(`${op} #${n}`);
    }
    return active;
  }
}

/** Passes exactly `afterBytes` bytes, then fails like a reset connection. */
async function* dropAfter(body: PutBody, afterBytes: number): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for await (const chunk of asIterable(body)) {
    if (offset + chunk.length > afterBytes) {
      if (afterBytes > offset) yield chunk.subarray(0, afterBytes - offset);
      throw injectedNetworkError(`connection dropped after ${afterBytes} bytes`);
    }
    offset += chunk.length;
    yield chunk;
  }
}

function asIterable(body: PutBody): AsyncIterable<Uint8Array> | Uint8Array[] {
  return body instanceof Uint8Array ? [body] : (body as AsyncIterable<Uint8Array>);
}

function flipByte(body: PutBody, atByte: number): AsyncIterable<Uint8Array> {
  return mapBytes(body, (chunk, offset) => {
    if (atByte < offset || atByte >= offset + chunk.length) return chunk;
    const copy = Buffer.from(chunk);
    copy[atByte - offset] = copy[atByte - offset]! ^ 0xff;
    return copy;
  });
}

async function* mapBytes(
  body: PutBody,
  fn: (chunk: Uint8Array, offset: number) => Uint8Array,
): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for await (const chunk of asIterable(body)) {
    const out = fn(chunk, offset);
    offset += chunk.length;
    yield out;
  }
}
