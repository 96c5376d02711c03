/**
 * The Realtime Database stand-in for tests and the bench: npm `firebase-server` 1.1.0
 * (Google's emulator needs a download), in a child process on a free loopback port, so a
 * test can kill it mid-backup.
 *
 * Used as a vitest globalSetup (`setup`/`teardown`: one server for the run, its
 * host:port `provide`d as `rtdbHost`, '' and a loud warning when it cannot start), by the
 * bench and by tests that need a server of their own (`startRtdbServer`), and from a
 * shell (`node --import tsx test/setup/rtdb-server.ts`, prints the export line).
 *
 * Traps handled here (see docs/adr/0007-realtime-database-source.md):
 * - `setAuthSecret('owner')`: firebase-admin authenticates with the emulator owner
 *   token; without a secret the server never acknowledges its writes.
 * - firebase-server answers every listen with the whole node and leaves the filtering
 *   to the client, so a "page" would still bring the whole tree into the client. The
 *   child answers key-ordered, limited queries (`orderByKey().startAfter().limitToFirst()`,
 *   the only queries the engine sends) itself, with just the page and the query's tag,
 *   as the service does. Every other message goes to firebase-server unchanged.
 * - It keeps one namespace: every instance name (`?ns=`) reaches the same tree.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/firestore-emulator.js';
import { stopChild, waitUntilUp, type RunningServer } from './storage-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** 127.0.0.1:port of the Realtime Database stand-in, or '' when it could not start. */
    rtdbHost: string;
  }
}

const require = createRequire(import.meta.url);
const thisFile = fileURLToPath(import.meta.url);

/** `seedFile`: a JSON file the server starts with (much faster than writing it in). */
export async function startRtdbServer(seedFile?: string): Promise<RunningServer & { pid: number }> {
  const port = await freePort();
  const args = [
    '--import',
    'tsx',
    thisFile,
    'serve',
    String(port),
    ...(seedFile ? [seedFile] : []),
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const host = `127.0.0.1:${port}`;
  await waitUntilUp(
    child,
    'Realtime Database stand-in (firebase-server)',
    `http://${host}/`,
    seedFile ? 600_000 : 60_000,
  );
  return { endpoint: host, pid: child.pid!, stop: () => stopChild(child) };
}

interface WsLike {
  on(event: string, fn: (data: unknown) => void): unknown;
  send(data: string): void;
}
interface RefLike {
  child(path: string): RefLike;
  orderByKey(): {
    startAt(key: string): { limitToFirst(n: number): QueryLike };
    limitToFirst(n: number): QueryLike;
  };
}
interface QueryLike {
  once(event: 'value'): Promise<{
    forEach(fn: (child: { key: string; exportVal(): unknown }) => boolean | void): void;
  }>;
}

/** Runs inside the child. */
function serve(port: number, seedFile?: string): void {
  const FirebaseServer = require('firebase-server') as new (
    options: object,
    name: string,
    data?: unknown,
  ) => { setAuthSecret(secret: string): void };

  class PagingServer extends FirebaseServer {
    handleConnection(ws: WsLike): void {
      const on = ws.on.bind(ws);
      ws.on = (event, fn) =>
        on(event, event === 'message' ? (data) => void page(this, ws, data, fn) : fn);
      (
        FirebaseServer.prototype as unknown as { handleConnection(ws: WsLike): void }
      ).handleConnection.call(this, ws);
    }
  }
  const data: unknown = seedFile ? JSON.parse(readFileSync(seedFile, 'utf8')) : null;
  const server = new PagingServer({ port, address: '127.0.0.1' }, 'firebackup-test', data);
  server.setAuthSecret('owner');
}

const FRAME = 16384;

function send(ws: WsLike, message: unknown): void {
  const text = JSON.stringify(message);
  if (text.length <= FRAME) return ws.send(text);
  ws.send(String(Math.ceil(text.length / FRAME)));
  for (let i = 0; i < text.length; i += FRAME) ws.send(text.slice(i, i + FRAME));
}

/** Answers a key-ordered, limited query with just its page; passes anything else on. */
async function page(
  server: object,
  ws: WsLike,
  data: unknown,
  next: (data: unknown) => void,
): Promise<void> {
  let message: {
    t?: string;
    d?: {
      r?: number;
      a?: string;
      b?: {
        p?: string;
        t?: number;
        q?: { i?: string; l?: number; vf?: string; sp?: string; sin?: boolean; ep?: unknown };
      };
    };
  };
  try {
    message = JSON.parse(String(data)) as typeof message;
  } catch {
    return next(data); // a frame count or a piece of a larger message
  }
  const b = message.d?.b;
  const q = b?.q;
  if (
    message.t !== 'd' ||
    message.d?.a !== 'q' ||
    !q ||
    q.i !== '.key' ||
    q.vf !== 'l' ||
    typeof q.l !== 'number' ||
    q.ep !== undefined
  ) {
    return next(data);
  }
  const base = (server as { baseRef: RefLike }).baseRef;
  const where = (b.p ?? '/').replace(/^\/+|\/+$/g, '');
  const ref = where ? base.child(where) : base;
  const exclusive = q.sp !== undefined && q.sin === false;
  const query =
    q.sp === undefined
      ? ref.orderByKey().limitToFirst(q.l)
      : ref
          .orderByKey()
          .startAt(q.sp)
          .limitToFirst(q.l + (exclusive ? 1 : 0));
  const snap = await query.once('value');
  const out: Record<string, unknown> = {};
  let n = 0;
  snap.forEach((child) => {
    if (exclusive && child.key === q.sp) return false;
    if (n++ < q.l!)
      Object.defineProperty(out, child.key, { value: child.exportVal(), enumerable: true });
    return false;
  });
  send(ws, { t: 'd', d: { a: 'd', b: { p: b.p ?? '/', d: n > 0 ? out : null, t: b.t } } });
  send(ws, { t: 'd', d: { r: message.d.r, b: { s: 'ok', d: {} } } });
}

let running: RunningServer[] = [];

/** vitest globalSetup; FIREBACKUP_TEST_RTDB_HOST names one already running. */
export async function setup(project: TestProject): Promise<void> {
  let host = process.env.FIREBACKUP_TEST_RTDB_HOST ?? '';
  if (!host) {
    try {
      const server = await startRtdbServer();
      running.push(server);
      host = server.endpoint;
    } catch (error) {
      const line = '!'.repeat(78);
      console.warn(
        `\n${line}\n! The Realtime Database stand-in could not start; its tests are SKIPPED.\n! ${String(error)}\n${line}\n`,
      );
    }
  }
  project.provide('rtdbHost', host);
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  if (process.argv[2] === 'serve') serve(Number(process.argv[3]), process.argv[4]);
  else {
    void startRtdbServer().then((server) => {
      running.push(server);
      console.log(`export FIREBASE_DATABASE_EMULATOR_HOST=${server.endpoint}`);
      const stop = (): void => void teardown().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }
}
