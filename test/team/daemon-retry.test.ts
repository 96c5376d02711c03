import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntime } from '../../src/engine/jobs/runtime.js';
import { waitFor } from '../helpers/spawn-cli.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

const cliScript = 'test/scheduler/fixtures/cli.ts';

/** The daemon as a separate process; `stderr()` is what it said so far. */
function startDaemon(env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', cliScript, 'daemon'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    stderr: () => stderr,
    exit,
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exit;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The daemon's own retry of the offline queue: an action queued while the organisation
 * server was down is delivered by the daemon once the server is back, with nobody asking
 * (no command, no new write): the timer SyncWriter runs, every 60 s by default and
 * FIREBACKUP_SYNC_RETRY_SECONDS here.
 */
describe('team sync: the daemon retries the queue by itself', () => {
  let server: TeamTestServer;
  let orgId: string;

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', {}));
  });
  afterAll(() => server?.close());

  const onServer = (firebaseProjectId: string) =>
    server.db.withOrg(orgId, (tx) =>
      tx.query('SELECT 1 FROM projects WHERE firebase_project_id = $1', [firebaseProjectId]),
    );

  it('a change queued while the server was down reaches it after the server comes back, without any user action', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-daemon-retry-'));
    const secrets = await signedInSecrets(home, await server.signIn('owner@acme.test', orgId));
    await server.down();
    let daemon: ReturnType<typeof startDaemon> | undefined;
    try {
      // Written while the server is unreachable: queued on this machine.
      const runtime = createRuntime({
        catalogFile: path.join(home, 'catalog.sqlite'),
        env: { FIREBACKUP_HOME: home },
        secrets,
      });
      runtime.catalog.projects.upsert({ name: 'Retried', firebaseProjectId: 'acme-retried' });
      await runtime.sync.settled();
      expect(runtime.sync.queue().map((i) => i.action)).toEqual(['projects.create']);
      runtime.close();

      // The daemon starts while the server is still down: its start-up delivery fails.
      daemon = startDaemon({
        FIREBACKUP_HOME: home,
        ENCRYPTION_KEY: randomBytes(32).toString('hex'),
        FIREBACKUP_SYNC_RETRY_SECONDS: '0.5',
      });
      const d = daemon;
      await waitFor(() => /FireBackup daemon running/.test(d.stderr()), 30_000, 'the daemon');
      await new Promise((r) => setTimeout(r, 1200));
      expect(await onServer('acme-retried')).toEqual([]);
    } finally {
      await server.up();
    }
    // Back: the daemon's next retry delivers it, once.
    const deadline = Date.now() + 20_000;
    while ((await onServer('acme-retried')).length === 0 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    await new Promise((r) => setTimeout(r, 1200));
    expect(await onServer('acme-retried'), daemon.stderr()).toHaveLength(1);
    expect(await daemon.stop(), daemon.stderr()).toBe(0);
  });

  it('refuses a retry interval that is not a number of seconds, saying what to set', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-daemon-retry-'));
    const daemon = startDaemon({
      FIREBACKUP_HOME: home,
      ENCRYPTION_KEY: randomBytes(32).toString('hex'),
      FIREBACKUP_SYNC_RETRY_SECONDS: 'soon',
    });
    expect(await daemon.exit).toBe(2);
    expect(daemon.stderr()).toMatch(/FIREBACKUP_SYNC_RETRY_SECONDS must be a number of seconds/);
  });
});
