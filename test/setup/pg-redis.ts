/**
 * A throwaway PostgreSQL cluster and a Redis server for the organisation server's tests and
 * its bench, from Debian's packages (`.ci/run` installs them): started once per run, on
 * 127.0.0.1:5433 and 127.0.0.1:6380 (or a free port when those are taken), in a temporary
 * folder, and thrown away at the end.
 *
 * Missing binaries: locally the tests that need them are SKIPPED and a loud banner says so;
 * with CI=true the run fails instead, so CI never passes without having run them.
 *
 * PostgreSQL refuses to run as root, so when we are root the cluster belongs to the
 * `postgres` user (the package creates it) and its folder is handed to that user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { freePort } from '../helpers/firestore-emulator.js';
import { stopChild } from './storage-servers.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** postgresql:// URL of a database whose migrations ran (a template), or ''. */
    postgresUrl: string;
    /** redis://127.0.0.1:port of a running Redis, or ''. */
    redisUrl: string;
  }
}

export interface RunningService {
  url: string;
  stop(): Promise<void>;
}

/** The newest Debian PostgreSQL's bin folder (its binaries are not always on PATH). */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(path.join(root, v, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] !== undefined) return path.join(root, versions[0], 'bin');
  try {
    return path.dirname(execFileSync('sh', ['-c', 'command -v pg_ctl']).toString().trim());
  } catch {
    return undefined;
  }
}

export function redisBin(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server']).toString().trim() || undefined;
  } catch {
    return undefined;
  }
}

function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function pickPort(preferred: number): Promise<number> {
  return (await portTaken(preferred)) ? freePort() : preferred;
}

/** Who runs PostgreSQL: ourselves, or the `postgres` user when we are root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
  return { uid, gid };
}

/**
 * initdb + pg_ctl start on 127.0.0.1. `durable: false` (tests) turns fsync off, which a
 * throwaway cluster does not need; the bench keeps PostgreSQL's defaults. With `tls`, TCP
 * connections must use TLS and present a client certificate of that CA naming the user
 * (pg_hba `hostssl … cert`).
 */
export async function startPostgres(
  options: {
    port?: number;
    durable?: boolean;
    tls?: { cert: string; key: string; ca: string };
  } = {},
): Promise<RunningService> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('PostgreSQL is not installed (no pg_ctl found)');
  const port = await pickPort(options.port ?? 5433);
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-postgres-'));
  const user = postgresUser();
  if (user !== undefined) chownSync(dir, user.uid, user.gid);
  const data = path.join(dir, 'data');
  const run = (tool: string, args: string[]) =>
    execFileSync(path.join(bin, tool), args, {
      ...(user ?? {}),
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const settings = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c max_connections=200',
    ...(options.durable === true ? [] : ['-c fsync=off', '-c full_page_writes=off']),
    ...(options.tls !== undefined
      ? ['-c ssl=on', '-c ssl_cert_file=../server.crt', '-c ssl_key_file=../server.key']
      : []),
    ...(options.tls !== undefined ? ['-c ssl_ca_file=../root.crt'] : []),
  ].join(' ');
  try {
    run('initdb', ['-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-locale', '-D', data]);
    if (options.tls !== undefined) {
      const files = {
        'server.crt': options.tls.cert,
        'server.key': options.tls.key,
        'root.crt': options.tls.ca,
        'data/pg_hba.conf': 'local all all trust\nhostssl all all 127.0.0.1/32 cert\n',
      };
      for (const [name, text] of Object.entries(files)) {
        const file = path.join(dir, name);
        writeFileSync(file, text);
        chmodSync(file, 0o600);
        if (user !== undefined) chownSync(file, user.uid, user.gid);
      }
    }
    run('pg_ctl', ['-D', data, '-l', path.join(dir, 'log'), '-o', settings, '-w', 'start']);
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? '';
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`PostgreSQL did not start: ${stderr || String(error)}`);
  }
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** redis-server as our child process, nothing saved to disk. */
export async function startRedis(options: { port?: number } = {}): Promise<RunningService> {
  const bin = redisBin();
  if (bin === undefined) throw new Error('Redis is not installed (no redis-server found)');
  const port = await pickPort(options.port ?? 6380);
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-redis-'));
  const child: ChildProcess = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const collect = (d: Buffer) => (output = (output + d.toString()).slice(-4000));
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 20_000;
  while (!(await portTaken(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`Redis did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: () => stopChild(child).finally(() => rmSync(dir, { recursive: true, force: true })),
  };
}

/**
 * Creates a database every test database is copied from, and migrates it once per run,
 * so a test's own database starts migrated in milliseconds.
 */
async function prepareTemplate(adminUrl: string): Promise<string> {
  const name = `fb_template_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, name);
  const { openDb } = await import('../../src/server/db/db.js');
  const db = await openDb({ databaseUrl: url });
  await db.close();
  return url;
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

let running: RunningService[] = [];

function banner(lines: string[]): void {
  const line = '!'.repeat(78);
  console.warn(`\n${line}\n${lines.map((l) => `! ${l}`).join('\n')}\n${line}\n`);
}

async function startOrSkip(name: string, start: () => Promise<RunningService>): Promise<string> {
  try {
    const service = await start();
    running.push(service);
    return service.url;
  } catch (error) {
    // In CI a missing server must fail the run, never quietly skip its tests.
    if (process.env.CI === 'true')
      throw new Error(`${name} is required in CI (CI=true) but could not start: ${String(error)}`);
    banner([
      `${name} could not start; the organisation server's tests on it are SKIPPED.`,
      String(error),
      'Install it with: apt-get install -y postgresql redis-server',
    ]);
    return '';
  }
}

/** vitest globalSetup: FIREBACKUP_TEST_POSTGRES_URL / _REDIS_URL reuse running servers. */
export async function setup(project: TestProject): Promise<void> {
  const [postgres, redis] = await Promise.all([
    process.env.FIREBACKUP_TEST_POSTGRES_URL ??
      startOrSkip('PostgreSQL', () => startPostgres({ port: 5433 })),
    process.env.FIREBACKUP_TEST_REDIS_URL ?? startOrSkip('Redis', () => startRedis({ port: 6380 })),
  ]);
  project.provide('postgresUrl', postgres === '' ? '' : await prepareTemplate(postgres));
  project.provide('redisUrl', redis);
}

export async function teardown(): Promise<void> {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
}
