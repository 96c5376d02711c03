import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { EVENT_NAMES, type EventName } from '../../shared/api/contract.js';
import type { Dispatch, EventSource } from '../../shared/api/memory-transport.js';
import { AppError, toErrorData, type ErrorCode } from '../../shared/errors.js';
import { noncedPage, RENDERER_SECURITY_HEADERS } from '../../shared/security-policy.js';
import { PLACEHOLDER_PAGE } from './placeholder.js';
import { CONTENT_TYPES } from '../../shared/content-types.js';

/**
 * The loopback web mode's HTTP front end: the built renderer and the contract, served to
 * the browser of the person at this machine and to nobody else. A thin adapter like the
 * CLI — every call lands in the same dispatcher as Electron's IPC.
 *
 * Who may talk to it (each check is needed on its own):
 * - it listens on 127.0.0.1 only, so other machines cannot connect;
 * - every API call and the event stream carry a random per-run token in a header, so
 *   other local users and other web pages (which cannot read the URL fragment it was
 *   handed over in) cannot call it;
 * - the Host header must name 127.0.0.1 or localhost with our port, so a hostile page
 *   that rebinds its own DNS name to 127.0.0.1 cannot reach us as "same origin";
 * - an Origin (or Sec-Fetch-Site) naming another site is refused outright.
 */
export interface WebServerOptions {
  dispatch: Dispatch;
  events: EventSource;
  /** Only 127.0.0.1 is accepted; the option exists so that anything else is refused loudly. */
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** The built renderer (index.html and assets); a placeholder page when absent. */
  staticDir?: string;
  /** Largest request body accepted, in bytes. */
  maxBodyBytes?: number;
  /** Heartbeat on idle event streams, so proxies and browsers keep them open. */
  heartbeatMs?: number;
}

export interface WebServer {
  /** The address to open: the token travels in the fragment, which is never sent to a server. */
  url: string;
  origin: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

export const LOOPBACK_HOST = '127.0.0.1';
const DEFAULT_MAX_BODY = 1024 * 1024;
/** A stream whose reader stopped reading is closed rather than buffered without bound. */
const MAX_STREAM_BACKLOG = 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export async function startWebServer(o: WebServerOptions): Promise<WebServer> {
  const host = o.host ?? LOOPBACK_HOST;
  if (host !== LOOPBACK_HOST) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The web mode listens on ${LOOPBACK_HOST} only (asked for "${host}"): it serves your backups and keys to whoever can reach it. To use it from another machine, forward the port over SSH (ssh -L).`,
    );
  }
  const token = randomBytes(32).toString('base64url');
  const tokenDigest = digest(token);
  const streams = new Set<http.ServerResponse>();
  let port = 0;
  const allowedHosts = (): string[] => [`${LOOPBACK_HOST}:${port}`, `localhost:${port}`];
  const allowedOrigins = (): string[] => allowedHosts().map((h) => `http://${h}`);

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      // Nothing may crash the server or leak detail: the caller gets the error as data.
      const e =
        error instanceof HttpError
          ? error
          : new HttpError(500, 'INTERNAL', 'The web server failed to answer this request.');
      if (res.headersSent) res.destroy();
      else
        sendJson(res, e.status, { ok: false, error: toErrorData(new AppError(e.code, e.message)) });
    });
  });
  server.headersTimeout = 10_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    checkCaller(req);
    const url = new URL(req.url ?? '/', `http://${LOOPBACK_HOST}:${port}`);
    if (url.pathname === '/api' || url.pathname.startsWith('/api/')) {
      res.setHeader('Cache-Control', 'no-store');
      if (!tokenMatches(req.headers.authorization, tokenDigest)) {
        throw new HttpError(
          401,
          'PERMISSION_DENIED',
          'Missing or wrong token: open the address firebackup ui printed (it carries the token).',
        );
      }
      if (url.pathname === '/api/events') return streamEvents(req, res, url);
      return callMethod(req, res, url.pathname.slice('/api/'.length));
    }
    return serveStatic(req, res, url.pathname);
  }

  /** Host names this server (DNS rebinding), and no foreign page is asking. */
  function checkCaller(req: http.IncomingMessage): void {
    if (!allowedHosts().includes(req.headers.host ?? '')) {
      throw new HttpError(
        403,
        'PERMISSION_DENIED',
        `Refused: the Host header must be ${LOOPBACK_HOST}:${port} or localhost:${port}.`,
      );
    }
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (
      (origin !== undefined && !allowedOrigins().includes(origin)) ||
      site === 'cross-site' ||
      site === 'same-site'
    ) {
      throw new HttpError(403, 'PERMISSION_DENIED', 'Refused: a request from another site.');
    }
  }

  async function callMethod(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    rawName: string,
  ): Promise<void> {
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      throw new HttpError(405, 'INVALID_ARGUMENT', 'Contract methods are called with POST.');
    }
    const body = await readBody(req, o.maxBodyBytes ?? DEFAULT_MAX_BODY);
    let input: unknown;
    try {
      input = body.length === 0 ? undefined : JSON.parse(body.toString('utf8'));
    } catch {
      throw new HttpError(400, 'INVALID_ARGUMENT', 'The request body is not valid JSON.');
    }
    let name: string;
    try {
      name = decodeURIComponent(rawName);
    } catch {
      throw new HttpError(400, 'INVALID_ARGUMENT', 'The method name is not valid.');
    }
    // The person at this machine owns it (the token proves the caller is them).
    sendJson(res, 200, await o.dispatch(name, input, { kind: 'local' }));
  }

  /** Server-Sent Events: `?event=job&event=run.finished`, only what was asked for. */
  function streamEvents(req: http.IncomingMessage, res: http.ServerResponse, url: URL): void {
    if (req.method !== 'GET') {
      res.setHeader('Allow', 'GET');
      throw new HttpError(405, 'INVALID_ARGUMENT', 'The event stream is read with GET.');
    }
    const names = url.searchParams.getAll('event');
    const unknown = names.filter((n) => !(EVENT_NAMES as string[]).includes(n));
    if (names.length === 0 || unknown.length > 0) {
      throw new HttpError(
        400,
        'INVALID_ARGUMENT',
        `Name the events to receive with ?event=<name> (one of ${EVENT_NAMES.join(', ')})${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}.`,
      );
    }
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    res.write(': connected\n\n');
    streams.add(res);
    const send = (chunk: string): void => {
      if (res.writableLength > MAX_STREAM_BACKLOG) return void res.destroy();
      res.write(chunk);
    };
    const unsubscribes = [...new Set(names as EventName[])].map((name) =>
      o.events.subscribe(name, (payload) =>
        send(`event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`),
      ),
    );
    const heartbeat = setInterval(() => send(': ping\n\n'), o.heartbeatMs ?? 15_000);
    heartbeat.unref();
    res.on('close', () => {
      clearInterval(heartbeat);
      for (const unsubscribe of unsubscribes) unsubscribe();
      streams.delete(res);
    });
  }

  async function serveStatic(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    pathname: string,
  ): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'INVALID_ARGUMENT', 'Only GET and HEAD are served here.');
    }
    for (const [name, value] of Object.entries(RENDERER_SECURITY_HEADERS))
      res.setHeader(name, value);
    res.setHeader('Cache-Control', 'no-cache');
    const file = await resolveStatic(o.staticDir, pathname);
    if (file === 'placeholder') return sendPage(req, res, PLACEHOLDER_PAGE);
    if (!file) throw new HttpError(404, 'NOT_FOUND', 'No such file.');
    if (path.extname(file.path) === '.html')
      return sendPage(req, res, await readFile(file.path, 'utf8'));
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES[path.extname(file.path)] ?? 'application/octet-stream',
      'Content-Length': String(file.size),
    });
    if (req.method === 'HEAD') return void res.end();
    createReadStream(file.path)
      .on('error', () => res.destroy())
      .pipe(res);
  }

  /** An HTML page, with its own style nonce in the page and the CSP (ADR 0023). */
  function sendPage(req: http.IncomingMessage, res: http.ServerResponse, html: string): void {
    const page = noncedPage(html);
    res.writeHead(200, {
      'Content-Type': CONTENT_TYPES['.html'],
      'Content-Security-Policy': page.contentSecurityPolicy,
    });
    res.end(req.method === 'HEAD' ? undefined : page.html);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new AppError(
              'INVALID_ARGUMENT',
              `Port ${o.port} is already in use: choose another with --port, or leave it out to use any free port.`,
            )
          : error,
      ),
    );
    server.listen(o.port ?? 0, LOOPBACK_HOST, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${LOOPBACK_HOST}:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of `Authorization: Bearer <token>` (hashing first evens lengths). */
function tokenMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer (\S+)$/.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]!), expected);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, 'INVALID_ARGUMENT', `The request body is larger than ${limit} bytes.`);
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(tooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The file for a URL path inside `root`, `index.html` for the app's own routes (paths
 * without an extension), or the placeholder page when the renderer is not built.
 */
async function resolveStatic(
  folder: string | undefined,
  pathname: string,
): Promise<{ path: string; size: number } | 'placeholder' | undefined> {
  const root = folder === undefined ? undefined : path.resolve(folder);
  const fileAt = async (p: string) => {
    const s = await stat(p).catch(() => undefined);
    return s?.isFile() ? { path: p, size: s.size } : undefined;
  };
  const index = root ? await fileAt(path.join(root, 'index.html')) : undefined;
  if (!root || !index) return path.extname(pathname) ? undefined : 'placeholder';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const resolved = path.resolve(root, `.${decoded}`);
  if (resolved !== root && !resolved.startsWith(root + path.sep)) return undefined;
  return (await fileAt(resolved)) ?? (path.extname(decoded) ? undefined : index);
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}
