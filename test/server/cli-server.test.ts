import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

/** Starts `firebackup server` as a child process; resolves with its address once listening. */
function startServerProcess(env: NodeJS.ProcessEnv) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/cli-entry.ts', 'server'],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  const address = new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on (http:\/\/\S+) /.exec(stderr);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { child, address, exited, stderr: () => stderr };
}

describe('firebackup server', () => {
  it('refuses to start without a strong JWT_SECRET, saying what to set (exit 2)', async () => {
    const run = await runCli(['server'], { JWT_SECRET: 'short' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/JWT_SECRET is shorter than 32 bytes.*openssl rand -hex 32/s);
  });

  it('serves on a real port with the embedded database in the data folder, starts again on it (migrations are not re-applied), stops on SIGTERM', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-server-'));
    const env = { FIREBACKUP_HOME: home, JWT_SECRET: 'k'.repeat(64), PORT: '0' };
    // The second round opens the existing database: re-running migration 1 would fail.
    for (let round = 0; round < 2; round++) {
      const server = startServerProcess(env);
      const address = await server.address;
      const health = await fetch(`${address}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await (await fetch(`${address}/readyz`)).json()).toEqual({
        status: 'ready',
        database: 'pglite',
      });
      // No sign-in route without an identity verifier: the test path does not exist here.
      const login = await fetch(`${address}/api/v1/auth/login`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(login.status).toBe(404);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
    expect(await readdir(path.join(home, 'server-db'))).toContain('PG_VERSION');
    // Two cold starts of a child process with the embedded database: slow on a busy machine.
  }, 240_000);

  it('AUDIT_LOG_EXPORT=true ships the audit log to AUDIT_LOG_EXPORT_DESTINATION (a folder)', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-server-'));
    const exportTo = await mkdtemp(path.join(tmpdir(), 'fb-audit-out-'));
    const server = startServerProcess({
      FIREBACKUP_HOME: home,
      JWT_SECRET: 'k'.repeat(64),
      PORT: '0',
      AUDIT_LOG_EXPORT: 'true',
      AUDIT_LOG_EXPORT_DESTINATION: exportTo,
      AUDIT_LOG_EXPORT_INTERVAL: '200',
    });
    try {
      const address = await server.address;
      // A refused token is audited (auth.failed) in the server-wide chain.
      const refused = await fetch(`${address}/api/v1/me`, {
        headers: { authorization: 'Bearer not-a-token' },
      });
      expect(refused.status).toBe(401);
      const file = path.join(exportTo, '_server', '000000000001-000000000001.ndjson');
      const deadline = Date.now() + 60_000;
      while (!existsSync(file) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 200));
      const [entry] = (await readFile(file, 'utf8')).trimEnd().split('\n');
      expect(JSON.parse(entry!)).toMatchObject({
        event: 'auth.failed',
        seq: 1,
        organization: null,
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  }, 240_000);
});
