import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BackupSummary } from '../../src/shared/backups.js';
import { openRtdb } from '../../src/engine/sources/rtdb/connection.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * `schedule add` keeps the sources and their filters in the schedule's scope (which the
 * scheduler hands to each run: test/jobs/scheduled-sources.test.ts), and refuses a
 * filter for a source the schedule leaves out, which every run would otherwise ignore.
 * A schedule with RTDB paths runs against the Realtime Database stand-in
 * (test/setup/rtdb-server.ts) and its archive holds those paths only.
 */
const firestoreHost = inject('firestoreEmulatorHost');
const rtdbHost = inject('rtdbHost');
const KEY = randomBytes(32).toString('hex');
let dir: string;
let dest: string;

beforeAll(() => ({ dir, dest } = makeCliSandbox('fb-cli-sched-src-', KEY)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('schedule add with sources', () => {
  const add = (name: string, extra: string[]): ReturnType<typeof runCli> =>
    runCli(
      [
        ...['schedule', 'add', name, '--project', 'demo', '--emulator', '127.0.0.1:1'],
        ...['--to', dest, '--cron', '0 2 * * *', ...extra],
      ],
      { FIREBACKUP_HOME: path.join(dir, 'home'), ENCRYPTION_KEY: KEY },
    );

  it('keeps the sources, buckets and prefix in the scope', async () => {
    const run = await add('files', [
      ...['--sources', 'storage,firestore', '--buckets', 'b1,b2', '--storage-prefix', 'up/'],
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const list = await runCli(['schedule', 'list', '--json'], {
      FIREBACKUP_HOME: path.join(dir, 'home'),
    });
    expect(list.json<Array<{ name: string; scope: unknown }>>()).toMatchObject([
      {
        name: 'files',
        scope: { sources: ['firestore', 'storage'], buckets: ['b1', 'b2'], storagePrefix: 'up/' },
      },
    ]);
  });

  it('refuses Storage filters on a schedule without the storage source', async () => {
    const run = await add('no-storage', ['--buckets', 'b1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/buckets selects storage data.*add "storage" to sources/);
  });
});

describe.skipIf(!firestoreHost || !rtdbHost)('a schedule with RTDB paths', () => {
  const saved = process.env.FIREBASE_DATABASE_EMULATOR_HOST;
  // The scheduler reads the daemon's environment for an emulator project's RTDB host.
  beforeAll(() => void (process.env.FIREBASE_DATABASE_EMULATOR_HOST = rtdbHost));
  afterAll(() => {
    if (saved === undefined) delete process.env.FIREBASE_DATABASE_EMULATOR_HOST;
    else process.env.FIREBASE_DATABASE_EMULATOR_HOST = saved;
  });

  it('backs up only those paths, and records them as the selection', async () => {
    const project = testProject('sched-rtdb');
    await seedDocuments(firestoreHost, project, { count: 5 });
    // The stand-in keeps one tree for every instance: work under a key of our own.
    const root = `t${randomBytes(4).toString('hex')}`;
    const conn = await openRtdb({ projectId: project, emulatorHost: rtdbHost });
    try {
      const db = await conn.instance(`${project}-default-rtdb`);
      await db.set(`/${root}`, { a: { x: 1, y: { z: 'kept' } }, b: { secret: 'left out' } });
    } finally {
      await conn.close();
    }
    const env = { FIREBACKUP_HOME: path.join(dir, 'home'), ENCRYPTION_KEY: KEY };
    const add = await runCli(
      [
        ...['schedule', 'add', 'rtdb-a', '--project', project, '--emulator', firestoreHost],
        ...['--to', dest, '--cron', '0 2 * * *', '--sources', 'firestore,rtdb'],
        ...['--rtdb-paths', `${root}/a/`],
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);
    const list = await runCli(['schedule', 'list', '--json'], env);
    expect(
      list.json<Array<{ name: string; scope: unknown }>>().find((s) => s.name === 'rtdb-a'),
    ).toMatchObject({ scope: { sources: ['firestore', 'rtdb'], rtdbPaths: [`/${root}/a`] } });

    const run = await runCli(['schedule', 'run-now', 'rtdb-a', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const backups = await runCli(['list', '--from', dest, '--json'], env);
    const backup = backups.json<BackupSummary[]>().find((b) => b.project === project)!;
    expect(backup.selection).toMatchObject({
      sources: ['firestore', 'rtdb'],
      rtdb: { paths: [`/${root}/a`] },
    });
    expect(backup.selection?.rtdb).not.toHaveProperty('instances');

    const out = path.join(dir, 'restored');
    const toDir = await runCli(['restore', backup.id, '--from', dest, '--to-dir', out], env);
    expect(toDir.code, toDir.stderr).toBe(0);
    const tree = JSON.parse(
      await readFile(path.join(out, 'rtdb', `${project}-default-rtdb.json`), 'utf8'),
    ) as unknown;
    // /b (and the other tests' trees in the stand-in) were not read.
    expect(tree).toEqual({ [root]: { a: { x: 1, y: { z: 'kept' } } } });
  });

  it('refuses RTDB paths on a schedule without the rtdb source, and a bad path', async () => {
    const env = { FIREBACKUP_HOME: path.join(dir, 'home'), ENCRYPTION_KEY: KEY };
    const base = [
      ...['schedule', 'add', 'bad', '--project', 'demo', '--emulator', '127.0.0.1:1'],
      ...['--to', dest, '--cron', '0 2 * * *'],
    ];
    const without = await runCli([...base, '--rtdb-paths', '/a'], env);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/rtdbPaths selects rtdb data.*add "rtdb" to sources/);
    const bad = await runCli([...base, '--sources', 'rtdb', '--rtdb-paths', '/a.b'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/not a Realtime Database path/);
    // A manual backup refuses them the same way.
    const manual = await runCli(
      [
        ...['backup', '--project', 'demo', '--emulator', '127.0.0.1:1', '--to', dest],
        ...['--sources', 'firestore', '--rtdb-paths', '/a'],
      ],
      env,
    );
    expect(manual.code).toBe(2);
    expect(manual.stderr).toMatch(/rtdbPaths selects rtdb data/);
  });
});
