/**
 * Real storage servers for tests and the bench: s3rver (S3 API) and firebase-tools'
 * Storage emulator (GCS JSON API), each a child process on a free loopback port.
 *
 * Used three ways:
 * - as a vitest globalSetup (`setup`/`teardown`): starts both once per run and
 *   `provide`s their endpoints;
 * - by the bench (`startS3rver`);
 * - from a shell (`node --import tsx test/setup/storage-servers.ts`): starts both, prints
 *   `export …` lines for the endpoints, and stops them on SIGINT/SIGTERM. The same file
 *   is the Storage emulator child (`… storage-servers.ts gcs-emulator <port> <dir>`).
 *
 * Traps handled here (see shared/design/test-infrastructure.md): s3rver needs the
 * OpenSSL legacy provider (continuation tokens answer 500 without it), and answers a PUT
 * before the bytes are in its file (patched by s3rver-read-after-write.cjs); the Storage
 * emulator's rules runtime needs Java 21, so it is replaced by no-ops — our clients send
 * the admin token ("Bearer owner") and admin requests skip rules.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/firestore-emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** http://127.0.0.1:port of a running s3rver, or '' when none could be started. */
    s3Endpoint: string;
    /** 127.0.0.1:port of a running Storage emulator, or '' when none could be started. */
    gcsEmulatorHost: string;
  }
}

/** s3rver's built-in account; any other key pair is refused with InvalidAccessKeyId. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/** Created at s3rver start-up, so tests need no CreateBucket. */
export const TEST_BUCKET = 'firebackup-test';

export interface RunningServer {
  /** s3rver: a URL; Storage emulator: host:port (the form its env variables take). */
  endpoint: string;
  /** The server's process id (the storage-source bench reads its CPU time). */
  pid?: number;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const thisFile = fileURLToPath(import.meta.url);

export async function startS3rver(): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-s3rver-'));
  const bin = path.join(path.dirname(require.resolve('s3rver/package.json')), 'bin/s3rver.js');
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      ...['--require', path.join(path.dirname(thisFile), 's3rver-read-after-write.cjs')],
      bin,
      ...['-d', dir, '-a', '127.0.0.1', '-p', String(port), '--silent'],
      ...['--no-vhost-buckets', '--configure-bucket', TEST_BUCKET],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilUp(child, 's3rver', `${endpoint}/`);
  return { endpoint, stop: () => stopChild(child).finally(() => rmDir(dir)) };
}

export async function startGcsEmulator(): Promise<RunningServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-gcs-emu-'));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', thisFile, 'gcs-emulator', String(port), dir],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const host = `127.0.0.1:${port}`;
  await waitUntilUp(child, 'Storage emulator', `http://${host}/`);
  return {
    endpoint: host,
    ...(child.pid ? { pid: child.pid } : {}),
    stop: () => stopChild(child).finally(() => rmDir(dir)),
  };
}

/** Runs inside the emulator child: firebase-tools is CommonJS and heavy, keep it out of tests. */
async function runGcsEmulator(port: number, dir: string): Promise<void> {
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage') as {
    StorageEmulator: new (args: object) => object;
  };
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry') as {
    EmulatorRegistry: { start(instance: object): Promise<void> };
  };
  // Blobs go to a private folder: the default one is shared by every emulator on the machine.
  class PrivateStorageEmulator extends StorageEmulator {
    getPersistenceTmpDir(): string {
      return dir;
    }
  }
  const emulator = new PrivateStorageEmulator({
    projectId: 'demo-firebackup',
    host: '127.0.0.1',
    port,
    rules: { name: path.join(dir, 'storage.rules'), content: '' },
    auto_download: false,
  }) as unknown as Record<string, unknown>;
  const noop = async (): Promise<undefined> => undefined;
  emulator._rulesRuntime = { start: noop, stop: noop };
  emulator._rulesManager = { start: noop, stop: noop, getRuleset: () => undefined };
  await EmulatorRegistry.start(emulator);
}

export async function waitUntilUp(
  child: ChildProcess,
  name: string,
  url: string,
  timeoutMs = 60_000,
): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited early:\n${stderr}`);
    try {
      await fetch(url);
      return; // any HTTP answer means it listens
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  await stopChild(child);
  throw new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${stderr}`);
}

export function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function rmDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export interface CuttingProxy {
  /** http://127.0.0.1:port, to use as the S3 endpoint. */
  endpoint: string;
  /** Connections cut so far. */
  cuts: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a real server that cuts connections (RST both sides) once
 * `afterBytes` have passed in one direction — a network failure mid-upload ('up') or
 * mid-download ('down'). Cuts the first `times` connections that get that far.
 */
export async function startCuttingProxy(
  target: string,
  plan: { direction: 'up' | 'down'; afterBytes: number; times: number },
): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  const state: CuttingProxy = { endpoint: '', cuts: 0, close: async () => undefined };
  const server = createServer((client) => {
    const upstream = connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let passed = 0;
    const cut = (): void => {
      state.cuts++;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const [from, to] = plan.direction === 'up' ? [client, upstream] : [upstream, client];
    from.on('data', (chunk: Buffer) => {
      passed += chunk.length;
      if (passed > plan.afterBytes && state.cuts < plan.times) cut();
      else to.write(chunk);
    });
    (plan.direction === 'up' ? upstream : client).pipe(plan.direction === 'up' ? client : upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    from.on('end', () => to.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

let running: RunningServer[] = [];

async function startOrWarn(name: string, start: () => Promise<RunningServer>): Promise<string> {
  try {
    const server = await start();
    running.push(server);
    return server.endpoint;
  } catch (error) {
    const line = '!'.repeat(78);
    console.warn(
      `\n${line}\n! ${name} could not start; its tests are SKIPPED.\n! ${String(error)}\n${line}\n`,
    );
    return '';
  }
}

/**
 * vitest globalSetup. Servers already started by `.ci/run` are used when
 * FIREBACKUP_TEST_S3_ENDPOINT / FIREBACKUP_TEST_GCS_HOST are set.
 */
export async function setup(project: TestProject): Promise<void> {
  const [s3, gcs] = await Promise.all([
    process.env.FIREBACKUP_TEST_S3_ENDPOINT ?? startOrWarn('s3rver', startS3rver),
    process.env.FIREBACKUP_TEST_GCS_HOST ?? startOrWarn('Storage emulator', startGcsEmulator),
  ]);
  project.provide('s3Endpoint', s3);
  project.provide('gcsEmulatorHost', gcs);
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
}

async function main(args: string[]): Promise<void> {
  if (args[0] === 'gcs-emulator') {
    await runGcsEmulator(Number(args[1]), args[2]!);
    return;
  }
  const [s3, gcs] = await Promise.all([startS3rver(), startGcsEmulator()]);
  running.push(s3, gcs);
  console.log(`export FIREBACKUP_TEST_S3_ENDPOINT=${s3.endpoint}`);
  console.log(`export FIREBACKUP_TEST_GCS_HOST=${gcs.endpoint}`);
  const stop = (): void => void teardown().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === thisFile) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
