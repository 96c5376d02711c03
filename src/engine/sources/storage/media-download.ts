/**
 * One object's bytes as stored, read by one plain GET on the JSON API's media endpoint
 * (`…/b/<bucket>/o/<name>?alt=media&generation=<listed>`), authenticated with the same
 * Storage client's credentials. `file.createReadStream()` does the same request through
 * gaxios, node-fetch and three stream wrappers, which cost ~0.75 s of CPU per GiB more
 * than reading the socket's chunks as they come (docs/benchmarks.md): at Storage speeds
 * the backup's main thread is the limit, so this path reads the response directly.
 *
 * Behaviour kept from the library's read (decompress: false, validation: false):
 * - bytes as stored: `Accept-Encoding: gzip`, so an object stored with Content-Encoding
 *   gzip is not decompressively transcoded (its size and digests are the stored bytes');
 * - only the start of a download is retried (before any byte), as the library's
 *   autoRetry did: 408/429/5xx and network errors, `DEFAULT_RETRY_POLICY`'s six attempts;
 * - a 404 means the listed generation is gone (the caller reports it as vanished);
 * - other statuses fail with the service's own message (gcsError, as before).
 * A connection dropped midway surfaces as a stream error here; the caller's size and
 * CRC32C check (ObjectDigest) refuses any short or altered object besides.
 *
 * Proxies: gaxios honours HTTPS_PROXY / HTTP_PROXY (and NO_PROXY) through a proxy agent.
 * This path does not implement proxying, so when any of those variables is set it falls
 * back to the library's `createReadStream`, which honours them exactly as before.
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import type { Bucket } from '@google-cloud/storage';
import { retryCall, DEFAULT_RETRY_POLICY } from '../../storage/wrappers/retry.js';
import { gcsError } from '../../storage/gcs/errors.js';
import type { StorageObjectRecord } from './records.js';

/** What `accept` made of an object's bytes, in order. */
export interface MediaBody<T> {
  /** The items made since the last call (never empty); undefined at the end. */
  next(): Promise<T[] | undefined>;
  /** Stops reading (the connection is closed, not reused). */
  destroy(): void;
}

export interface OpenMediaOptions {
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
  /** Items waiting for the consumer before the socket is paused. Default 2. */
  limit?: number;
}

const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy'];

/** Thrown by one attempt when the service answers 404: not retried, not an error. */
const VANISHED = Symbol('vanished');

/** True when gaxios would consider a proxy: the library's read is used then. */
export function proxyConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return PROXY_VARIABLES.some((name) => Boolean(env[name]));
}

/**
 * Opens the listed generation of an object: its body, each chunk given to `accept` as
 * it arrives, or undefined when the service says it no longer exists (404). Other
 * failures throw an AppError naming the object.
 */
export async function openMedia<T>(
  bucket: Bucket,
  record: StorageObjectRecord,
  accept: (chunk: Buffer) => Iterable<T>,
  options: OpenMediaOptions = {},
): Promise<MediaBody<T> | undefined> {
  const where = `gs://${bucket.name}/${record.name}`;
  const limit = options.limit ?? 2;
  if (proxyConfigured(options.env)) {
    return openThroughLibrary(
      bucket,
      record,
      where,
      (stream) => new ArrivalQueue(stream, accept, limit),
    );
  }
  try {
    return await retryCall(
      async () => {
        try {
          const response = await request(bucket, record, where);
          return new ArrivalQueue(response, accept, limit);
        } catch (error) {
          // As AppErrors, so retryCall tells retryable failures (408/429/5xx, network) apart.
          throw error === VANISHED ? error : gcsError(error, `Cannot read ${where}`, []);
        }
      },
      DEFAULT_RETRY_POLICY,
      options.signal,
    );
  } catch (error) {
    if (error === VANISHED) return undefined;
    throw error;
  }
}

/** The media URL of one generation; the name is one path segment, every reserved character escaped. */
export function mediaUrl(bucket: Bucket, record: StorageObjectRecord): URL {
  const base = bucket.storage.baseUrl.replace(/\/+$/, '');
  const url = new URL(
    `${base}/b/${encodeURIComponent(bucket.name)}/o/${encodeURIComponent(record.name)}`,
  );
  url.searchParams.set('alt', 'media');
  if (record.generation) url.searchParams.set('generation', record.generation);
  return url;
}

let agents: { http: http.Agent; https: https.Agent } | undefined;

/** Keep-alive agents shared by every download of the process: one connection serves many objects. */
function agentFor(url: URL): http.Agent {
  agents ??= {
    http: new http.Agent({ keepAlive: true }),
    https: new https.Agent({ keepAlive: true }),
  };
  return url.protocol === 'https:' ? agents.https : agents.http;
}

/** The Authorization (and quota project) headers the library would send, none where it sends none. */
async function authHeaders(bucket: Bucket, url: URL): Promise<Record<string, string>> {
  const storage = bucket.storage;
  // A custom endpoint without useAuthWithCustomEndpoint is reached unauthenticated by
  // the library (e.g. a local test server); do the same.
  if (storage.customEndpoint && !storage.useAuthWithCustomEndpoint) return {};
  const headers = (await storage.authClient.getRequestHeaders(url.href)) as Record<string, string>;
  return { ...headers };
}

/** The response of a successful GET (2xx), not yet read. */
async function request(
  bucket: Bucket,
  record: StorageObjectRecord,
  where: string,
): Promise<http.IncomingMessage> {
  const url = mediaUrl(bucket, record);
  const headers = {
    ...(await authHeaders(bucket, url)),
    'Accept-Encoding': 'gzip',
    'Cache-Control': 'no-store',
  };
  const client = url.protocol === 'https:' ? https : http;
  const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
    client.get(url, { headers, agent: agentFor(url) }, resolve).on('error', reject);
  });
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  const body = await readText(response);
  if (status === 404) throw VANISHED;
  throw serviceError(status, body, response.headers, where);
}

async function readText(response: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of response) chunks.push(chunk as Buffer);
  } catch {
    // The status is what matters; a body cut short still says something.
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, 4000);
}

/** An error shaped like the library's ApiError, so gcsError reads it the same way. */
function serviceError(
  status: number,
  body: string,
  headers: http.IncomingHttpHeaders,
  where: string,
): Error {
  let message = body.trim();
  let reason: string | undefined;
  try {
    const parsed = JSON.parse(body) as {
      error?: { message?: string; errors?: { reason?: string }[] };
    };
    message = parsed.error?.message ?? message;
    reason = parsed.error?.errors?.[0]?.reason;
  } catch {
    // Not JSON (a proxy's or the emulator's plain text): the text itself is the message.
  }
  const error = new Error(message || `HTTP ${status} reading ${where}`) as Error & {
    code: number;
    errors?: { reason: string }[];
    response: { headers: Record<string, string | undefined> };
  };
  error.code = status;
  if (reason) error.errors = [{ reason }];
  const retryAfter = headers['retry-after'];
  error.response = { headers: { 'retry-after': retryAfter } };
  return error;
}

/** The library's read, for proxied users: the same MediaBody, 404 on the first read as vanished. */
async function openThroughLibrary<T>(
  bucket: Bucket,
  record: StorageObjectRecord,
  where: string,
  queue: (stream: Readable) => ArrivalQueue<T>,
): Promise<MediaBody<T> | undefined> {
  const file = bucket.file(record.name, record.generation ? { generation: record.generation } : {});
  // Our own digests (ObjectDigest): the library's validation would only check again.
  const body = queue(file.createReadStream({ decompress: false, validation: false }));
  try {
    await body.whenStarted();
  } catch (error) {
    body.destroy();
    if ((error as { code?: unknown } | null)?.code === 404) return undefined;
    throw gcsError(error, `Cannot read ${where}`, []);
  }
  return body;
}

/**
 * What a readable delivers, turned into items by `accept` as each chunk arrives (in the
 * 'data' event itself), handed over in batches: one promise per batch rather than per
 * chunk, and no stream iterator (which joins buffered chunks into a new buffer). Each
 * chunk is garbage as soon as `accept` returns: chunks kept across an asynchronous step
 * were promoted by the collector and cost full collections (ADR 0020). The source is
 * paused while `limit` items wait.
 *
 * Nothing is read before the first `next()` (or `whenStarted()`): a body opened ahead
 * of its turn (the next object's, while one is still read) waits with its connection
 * paused, and its chunks never reach `accept` while another object's are.
 */
export class ArrivalQueue<T> implements MediaBody<T> {
  private items: T[] = [];
  private flowing = false;
  private started = false;
  private ended = false;
  private failure: unknown;
  private failed = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly stream: Readable,
    private readonly accept: (chunk: Buffer) => Iterable<T>,
    private readonly limit: number,
  ) {
    stream.once('end', () => {
      this.ended = true;
      this.notify();
    });
    stream.once('error', (error: Error) => this.fail(error));
    // A response whose connection closed before its end: never a complete object.
    stream.once('close', () => {
      if (!this.ended) {
        this.fail(
          Object.assign(new Error('the connection closed before the object ended'), {
            code: 'ECONNRESET',
          }),
        );
      }
    });
  }

  private fail(error: unknown): void {
    if (!this.failed) {
      this.failed = true;
      this.failure = error;
    }
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Starts reading: each chunk to `accept` in the 'data' event itself. */
  private flow(): void {
    if (this.flowing) return;
    this.flowing = true;
    this.stream.on('data', (chunk: Buffer) => {
      this.started = true;
      try {
        for (const item of this.accept(chunk)) this.items.push(item);
      } catch (error) {
        this.fail(error);
        this.stream.destroy();
        return;
      }
      if (this.items.length >= this.limit) this.stream.pause();
      this.notify();
    });
  }

  /** Waits until the first chunk, the end, or a failure (thrown), without taking anything. */
  async whenStarted(): Promise<void> {
    this.flow();
    while (!this.started && !this.ended) {
      if (this.failed) throw this.failure;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  async next(): Promise<T[] | undefined> {
    this.flow();
    while (this.items.length === 0) {
      if (this.failed) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    const batch = this.items;
    this.items = [];
    if (this.stream.isPaused()) this.stream.resume();
    return batch;
  }

  destroy(): void {
    this.stream.destroy();
  }
}
