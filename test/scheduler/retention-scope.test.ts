import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { BackupSummary } from '../../src/shared/backups.js';
import type { Run } from '../../src/shared/jobs.js';
import { runSummary } from '../../src/cli/commands/schedule.js';
import { seedDocuments } from '../helpers/firestore-seed.js';
import { makeCliSandbox } from '../helpers/cli-sandbox.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Issue 11, item 1, as reported: a schedule with daily/weekly/monthly retention pointed at
 * a folder that already held manual backups deleted them. Real engine, real emulator.
 */
const host = inject('firestoreEmulatorHost');
const rtdbHost = inject('rtdbHost');
const KEY = randomBytes(32).toString('hex');
const PROJECT = `ret-scope-${randomBytes(3).toString('hex')}`;

let dir: string;
let dest: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => ({ dir, dest, env } = makeCliSandbox('fb-ret-scope-', KEY)));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const source = (): string[] => ['--project', PROJECT, '--emulator', host];
const listed = async (): Promise<BackupSummary[]> => {
  const r = await runCli(['list', '--from', dest, '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  return r.json<BackupSummary[]>();
};

describe.skipIf(!host)('retention only considers backups of its own scope', () => {
  beforeAll(async () => {
    await seedDocuments(host, PROJECT, { count: 300, rootCollections: ['users', 'orders'] });
  });

  it('a GFS schedule run several times keeps the manual backups and logs each deletion by id', async () => {
    const full = await runCli(['backup', ...source(), '--to', dest, '--json'], env);
    expect(full.code, full.stderr).toBe(0);
    const users = await runCli(
      ['backup', ...source(), '--to', dest, '--collections', 'users', '--json'],
      env,
    );
    expect(users.code, users.stderr).toBe(0);
    const manual = [full.json<{ id: string }>().id, users.json<{ id: string }>().id];

    const add = await runCli(
      [
        'schedule',
        'add',
        'nightly',
        ...source(),
        '--to',
        dest,
        '--cron',
        '0 2 * * *',
        '--tz',
        'UTC',
        '--keep-daily',
        '7',
        '--keep-weekly',
        '4',
        '--keep-monthly',
        '12',
      ],
      env,
    );
    expect(add.code, add.stderr).toBe(0);

    const runs: Run[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await runCli(['schedule', 'run-now', 'nightly', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      runs.push(r.json<Run>());
      // The manual backups survive every run.
      expect((await listed()).map((b) => b.id)).toEqual(expect.arrayContaining(manual));
    }
    const made = runs.map((r) => r.backupId!);
    // All runs fall on one day: each keeps its own newest and deletes its previous one.
    const deleted = runs.map((r) => (r.detail as { pruned: { deleted: string[] } }).pruned.deleted);
    expect(deleted).toEqual([[], [made[0]], [made[1]]]);
    expect((await listed()).map((b) => b.id).sort()).toEqual([...manual, made[2]].sort());

    // The manifests say who made each backup and of what.
    const byId = new Map((await listed()).map((b) => [b.id, b]));
    expect(byId.get(manual[0]!)).toMatchObject({ selection: { collections: [], exclude: [] } });
    expect(byId.get(manual[0]!)?.scheduleId).toBeUndefined();
    expect(byId.get(manual[1]!)).toMatchObject({ selection: { collections: ['users'] } });
    expect(byId.get(made[2]!)?.scheduleId).toMatch(/^sch_/);

    // The daemon logs each finished run with runSummary: deletions by id included.
    expect(runSummary(runs[1]!)).toContain(`retention deleted ${made[0]}`);
    // History shows each deletion by id, in JSON and for people.
    const history = await runCli(['history', '--schedule', 'nightly'], env);
    expect(history.stdout).toContain(`deleted ${made[0]}`);
    expect(history.stdout).toContain(`deleted ${made[1]}`);

    // A manual prune considers only manual backups of exactly the named selection.
    const prune = await runCli(
      ['prune', '--project', PROJECT, '--from', dest, '--keep-last', '1', '--json'],
      env,
    );
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.json<Run>().detail).toMatchObject({
      keep: [{ id: manual[0] }],
      remove: [],
      scope: expect.stringMatching(/manual backups of .*all collections/),
    });
    const human = await runCli(
      ['prune', '--project', PROJECT, '--from', dest, '--collections', 'users', '--keep-last', '1'],
      env,
    );
    expect(human.stdout).toMatch(/Considered only manual backups of .*collections users/);
    expect((await listed()).map((b) => b.id).sort()).toEqual([...manual, made[2]].sort());

    // A schedule's prune and a manual scope are never mixed up.
    const mixed = await runCli(
      ['prune', '--schedule', 'nightly', '--collections', 'users', '--keep-last', '1'],
      env,
    );
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--schedule prunes the backups that schedule made/);
  });
});

describe.skipIf(!host || !rtdbHost)('retention keeps RTDB path selections apart', () => {
  it('a whole-tree prune never deletes the backup of chosen RTDB paths, nor the other way round', async () => {
    const rtdb = ['--sources', 'firestore,rtdb', '--rtdb-emulator', rtdbHost];
    const backup = async (extra: string[]): Promise<string> => {
      const r = await runCli(
        ['backup', ...source(), '--to', dest, ...rtdb, ...extra, '--json'],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      return r.json<{ id: string }>().id;
    };
    const [wholeOld, onlyA, wholeNew] = [
      await backup([]),
      await backup(['--rtdb-paths', '/a']),
      await backup([]),
    ];
    const prune = async (extra: string[]): Promise<Run> => {
      const r = await runCli(
        [
          ...['prune', '--project', PROJECT, '--from', dest, '--keep-last', '1', '--json'],
          ...['--sources', 'firestore,rtdb', ...extra],
        ],
        env,
      );
      expect(r.code, r.stderr).toBe(0);
      return r.json<Run>();
    };
    // Only /a's backup in its scope: the newest, kept.
    expect((await prune(['--rtdb-paths', 'a/'])).detail).toMatchObject({
      keep: [{ id: onlyA }],
      remove: [],
      scope: expect.stringMatching(/RTDB paths \/a/),
    });
    // Whole trees: the older whole backup goes, the backup of /a stays.
    expect((await prune([])).detail).toMatchObject({
      keep: [{ id: wholeNew }],
      deleted: [wholeOld],
    });
    const left = (await listed()).map((b) => b.id);
    expect(left).toContain(onlyA);
    expect(left).toContain(wholeNew);
    expect(left).not.toContain(wholeOld);
  });
});
