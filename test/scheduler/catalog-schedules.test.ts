import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Run } from '../../src/shared/jobs.js';
import type { Schedule } from '../../src/shared/schedules.js';
import { seedDocuments } from '../helpers/firestore-seed.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Issue 11, item 7: the catalog is not only a cache. Schedules are kept (sealed) in the
 * destinations they target, and `catalog rebuild` brings them back; history cannot be.
 */
const host = inject('firestoreEmulatorHost');
const KEY = randomBytes(32).toString('hex');
const PROJECT = `cat-sched-${randomBytes(3).toString('hex')}`;

let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => ({ dir, env } = makeCliSandbox('fb-cat-sched-', KEY)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const add = (name: string, dest: string, extra: string[], e: NodeJS.ProcessEnv = env) =>
  runCli(
    [
      'schedule',
      'add',
      name,
      '--project',
      PROJECT,
      '--emulator',
      host,
      '--to',
      dest,
      '--cron',
      '0 2 * * *',
      '--tz',
      'Europe/Paris',
      ...extra,
    ],
    e,
  );
const schedules = async (e: NodeJS.ProcessEnv = env): Promise<Schedule[]> =>
  (await runCli(['schedule', 'list', '--json'], e)).json<Schedule[]>();

describe.skipIf(!host)('catalog rebuild brings schedules back', () => {
  beforeAll(async () => {
    await seedDocuments(host, PROJECT, { count: 50, rootCollections: ['users', 'orders'] });
  });

  it('add schedules, delete the catalog, rebuild: the schedules are back and still own their backups', async () => {
    const destA = path.join(dir, 'a');
    const destB = path.join(dir, 'b');
    expect((await add('nightly', destA, ['--keep-last', '1'])).code).toBe(0);
    expect((await add('users', destA, ['--collections', 'users', '--keep-daily', '3'])).code).toBe(
      0,
    );
    expect((await add('gone', destB, ['--keep-last', '2'])).code).toBe(0);
    expect((await runCli(['schedule', 'remove', 'gone'], env)).code).toBe(0);
    expect(readdirSync(destA)).toContain('schedules.fbc');
    // Sealed: neither names nor the project are readable without the key.
    const sealed = readFileSync(path.join(destA, 'schedules.fbc'));
    expect(sealed.includes(Buffer.from('nightly'))).toBe(false);
    expect(sealed.includes(Buffer.from(PROJECT))).toBe(false);
    const first = await runCli(['schedule', 'run-now', 'nightly', '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    // The schedules object is not a backup.
    const listed = await runCli(['list', '--from', destA, '--json'], env);
    expect(listed.json<{ id: string }[]>().map((b) => b.id)).toEqual([first.json<Run>().backupId]);
    const before = await schedules();

    // Lose the catalog.
    rmSync(path.join(dir, 'home'), { recursive: true, force: true });
    expect(await schedules()).toEqual([]);
    const rebuild = await runCli(['catalog', 'rebuild', '--from', destA, '--from', destB], env);
    expect(rebuild.code, rebuild.stderr).toBe(0);
    expect(rebuild.stdout).toMatch(/nightly, users/);
    expect(rebuild.stdout).toMatch(/Not restorable: run history/);

    const after = await schedules();
    // Everything but the run history (lastRun), which is not restorable, and local ids.
    const strip = (s: Schedule[]) =>
      s.map(
        ({
          lastScheduledFor: _l,
          projectId: _p,
          destinationId: _d,
          lastRun: _r,
          ...rest
        }: Schedule & { lastRun?: unknown }) => rest,
      );
    expect(strip(after)).toEqual(strip(before.filter((s) => s.name !== 'gone')));
    expect(after.map((s) => s.name)).toEqual(['nightly', 'users']);

    // Same id, so retention still knows the backup made before the rebuild is its own.
    const second = await runCli(['schedule', 'run-now', 'nightly', '--json'], env);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json<Run>().detail).toMatchObject({
      pruned: { deleted: [first.json<Run>().backupId] },
    });

    // A second rebuild changes nothing.
    const again = await runCli(['catalog', 'rebuild', '--from', destA, '--json'], env);
    const entryA = again
      .json<{ destinations: { url: string; schedules?: unknown }[] }>()
      .destinations.find((d) => d.url === destA);
    expect(entryA?.schedules).toEqual({ restored: [], present: ['nightly', 'users'], skipped: [] });
  });

  it('without the key a schedule is still added, with a warning that rebuild cannot restore it', async () => {
    const home = { FIREBACKUP_HOME: path.join(dir, 'home-nokey') };
    const r = await add('nokey', path.join(dir, 'c'), [], home);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Warning: the schedules were not saved in .*no key given/);
    expect(readdirSync(path.join(dir))).not.toContain('c');
  });
});
