import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/run-cli.js';

const cliScript = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));

/** Starts the daemon, waits for its start-up report, stops it; returns what it said. */
async function daemonStartup(
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', cliScript, 'daemon'], {
    env: { ...process.env, ENCRYPTION_KEY_ROTATION: undefined, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stopped = false;
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (!stopped && /FireBackup daemon running/.test(stderr)) {
      stopped = true; // once: a second signal stops at once, by design
      child.kill('SIGTERM');
    }
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await exit;
  clearTimeout(timer);
  return { code, stderr };
}

describe('the daemon and scheduled key rotation', () => {
  it('says clearly at start that a key from ENCRYPTION_KEY alone cannot be rotated, and writes no key', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'fb-daemon-rot-'));
    const env = {
      FIREBACKUP_HOME: home,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY_ROTATION: 'true',
      ENCRYPTION_KEY_ROTATION_INTERVAL: '90d',
    };
    const { code, stderr } = await daemonStartup(env);
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/keys will NOT be rotated/);
    expect(stderr).toContain(path.join(home, 'keys.json'));
    expect(existsSync(path.join(home, 'keys.json'))).toBe(false);

    // With a key store, the daemon says when the next rotation is due.
    expect((await runCli(['keys', 'rotate', '-q'], env)).code).toBe(0);
    const withStore = await daemonStartup(env);
    expect(withStore.code, withStore.stderr).toBe(0);
    expect(withStore.stderr).toMatch(/Key rotation on: every 90d; current key k[0-9a-f]{16}/);
  });

  it('refuses a bad interval before starting', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'fb-daemon-rot-'));
    const { code, stderr } = await daemonStartup({
      FIREBACKUP_HOME: home,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      ENCRYPTION_KEY_ROTATION: 'true',
      ENCRYPTION_KEY_ROTATION_INTERVAL: '3 months',
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(/ENCRYPTION_KEY_ROTATION_INTERVAL must be a duration like 90d/);
  });
});
