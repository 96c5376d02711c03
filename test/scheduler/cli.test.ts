import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Run } from '../../src/shared/jobs.js';
import { seedDocuments } from '../helpers/firestore-seed.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/run-cli.js';

/** The schedule/prune/history/catalog/daemon commands, end to end over the real engine. */
const host = inject('firestoreEmulatorHost');
const cliScript = fileURLToPath(new URL('./fixtures/cli.ts', import.meta.url));
const KEY = randomBytes(32).toString('hex');
const PROJECT = `cli-sched-${randomBytes(3).toString('hex')}`;

let dir: string;
let dest: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => ({ dir, dest, env } = makeCliSandbox('fb-cli-sched-', KEY)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('schedule commands (catalog only)', () => {
  it('add, list, remove; a bad cron or time zone is refused with a usable message', async () => {
    const home = { FIREBACKUP_HOME: path.join(dir, 'home-offline') };
    const add = await runCli(
      [
        'schedule',
        'add',
        'nightly',
        '--project',
        'demo',
        '--emulator',
        '127.0.0.1:1',
        '--to',
        dest,
        '--cron',
        '0 2 * * *',
        '--tz',
        'Europe/Paris',
        '--keep-last',
        '7',
      ],
      home,
    );
    expect(add.code).toBe(0);
    expect(add.stdout).toMatch(/Added schedule "nightly".*retention: last 7/);
    const list = await runCli(['schedule', 'list', '--json'], home);
    expect(
      list.json<{ name: string; timeZone: string; retention: unknown; nextRun: string }[]>(),
    ).toMatchObject([{ name: 'nightly', timeZone: 'Europe/Paris', retention: { keepLast: 7 } }]);
    const bad = await runCli(
      ['schedule', 'add', 'x', '--project', 'demo', '--to', dest, '--cron', '0 25 * * *'],
      home,
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Invalid cron expression.*"0 2 \* \* \*"/);
    const badTz = await runCli(
      [
        'schedule',
        'add',
        'y',
        '--project',
        'demo',
        '--to',
        dest,
        '--cron',
        '0 2 * * *',
        '--tz',
        'Moon/Base',
      ],
      home,
    );
    expect(badTz.code).toBe(2);
    expect(badTz.stderr).toMatch(/IANA time zone/);
    expect((await runCli(['schedule', 'remove', 'nightly'], home)).code).toBe(0);
    expect((await runCli(['schedule', 'list'], home)).stdout).toMatch(/No schedules/);
    expect((await runCli(['schedule', 'remove', 'nightly'], home)).code).toBe(1);
  });
});

describe.skipIf(!host)('schedule, prune, history and catalog over the emulator', () => {
  beforeAll(async () => {
    await seedDocuments(host, PROJECT, { count: 4000, docBytes: 1500 });
  });

  it('run-now backs up, prune --dry-run then prune, history records it all, rebuild matches', async () => {
    const add = await runCli(
      [
        'schedule',
        'add',
        'nightly',
        '--project',
        PROJECT,
        '--emulator',
        host,
        '--to',
        dest,
        '--cron',
        '0 2 * * *',
        '--tz',
        'UTC',
      ],
      env,
    );
    expect(add.code).toBe(0);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['schedule', 'run-now', 'nightly', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const run = r.json<Run>();
      expect(run).toMatchObject({
        status: 'succeeded',
        trigger: 'manual',
        counts: { 'firestore.documents': 4000 },
      });
      ids.push(run.backupId!);
    }

    const dry = await runCli(
      ['prune', '--schedule', 'nightly', '--keep-last', '1', '--dry-run'],
      env,
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/dry run: nothing deleted/);
    expect(dry.stdout.match(/would delete/g)).toHaveLength(2);
    const listed = async () =>
      (await runCli(['list', '--from', dest, '--json'], env))
        .json<{ id: string }[]>()
        .map((b) => b.id);
    expect((await listed()).sort()).toEqual([...ids].sort());

    const prune = await runCli(
      ['prune', '--schedule', 'nightly', '--keep-last', '1', '--json'],
      env,
    );
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.json<Run>().detail).toMatchObject({ deleted: [ids[0], ids[1]] }); // oldest first
    expect(await listed()).toEqual([ids[2]]);

    const history = await runCli(['history', '--json'], env);
    const runs = history.json<Run[]>();
    expect(runs.map((r) => `${r.kind}:${r.status}`)).toEqual([
      'prune:succeeded',
      'prune:succeeded',
      'backup:succeeded',
      'backup:succeeded',
      'backup:succeeded',
    ]);

    // A fresh app data folder, rebuilt from the destination, lists the same backups.
    const freshEnv = { ...env, FIREBACKUP_HOME: path.join(dir, 'home-fresh') };
    const rebuild = await runCli(['catalog', 'rebuild', '--from', dest, '--json'], freshEnv);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.json()).toMatchObject({ destinations: [{ backups: 1, added: 1, removed: 0 }] });
  });

  it('daemon runs a due schedule and, on SIGTERM with --grace 0, cancels it cleanly within the bound', async () => {
    const home = { ...env, FIREBACKUP_HOME: path.join(dir, 'home-daemon') };
    const daemonDest = path.join(dir, 'dest-daemon');
    // Every second (6-field cron), so the daemon has a run due almost at once.
    const add = await runCli(
      [
        'schedule',
        'add',
        'often',
        '--project',
        PROJECT,
        '--emulator',
        host,
        '--to',
        daemonDest,
        '--cron',
        '* * * * * *',
        '--tz',
        'UTC',
      ],
      home,
    );
    expect(add.code).toBe(0);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', cliScript, 'daemon', '--grace', '0', '--cancel-timeout', '10'],
      {
        env: { ...process.env, ...home },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`daemon never started a job:\n${stderr}`)),
        30_000,
      );
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/running, attempt 1/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await exit;
    expect(code, stderr).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(10_000);
    expect(stderr).toMatch(/Grace period over: cancelling/);
    expect(stderr).toMatch(/Stopped\./);

    const runs = (await runCli(['history', '--kind', 'backup', '--json'], home)).json<Run[]>();
    const ran = runs.filter((r) => r.status !== 'missed');
    expect(ran.map((r) => r.status)).toContain('cancelled');
    expect(ran.every((r) => r.status === 'cancelled' || r.status === 'succeeded')).toBe(true);
    // `list` refuses a folder that does not exist (no run got as far as making it).
    const listed = existsSync(daemonDest)
      ? (await runCli(['list', '--from', daemonDest, '--json'], home)).json<{ id: string }[]>()
      : [];
    const succeeded = ran.filter((r) => r.status === 'succeeded').map((r) => r.backupId);
    // Only completed runs left backups; the cancelled one left none.
    expect(listed.map((b) => b.id).sort()).toEqual(succeeded.sort());
  });
});
