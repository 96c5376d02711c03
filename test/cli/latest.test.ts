import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { readAllRaw, seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

/** `latest` in a destination that holds backups of more than one project (issue 11, item 3). */
describe('"latest" with backups of several projects in one folder (offline)', () => {
  let dir: string;
  let key: MasterKey;
  let env: NodeJS.ProcessEnv;
  let prod: { id: string };
  let staging: { id: string };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-latest-'));
    key = MasterKey.generate();
    env = { ENCRYPTION_KEY: key.revealHex() };
    const dest = new LocalBackend(dir);
    prod = await craftBackup(dest, key, sampleDocuments(3), {
      project: 'prod',
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    staging = await craftBackup(dest, key, sampleDocuments(4), {
      project: 'staging',
      createdAt: new Date('2026-02-01T00:00:00Z'),
    });
  });

  it('refuses "latest" without --project, naming the projects present', async () => {
    for (const command of ['verify', 'inspect', 'delete']) {
      const yes = command === 'delete' ? ['--yes'] : [];
      const run = await runCli([command, 'latest', '--from', dir, ...yes], env);
      expect(run.code, `${command}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/more than one project/);
      expect(run.stderr).toContain('prod/(default) (1)');
      expect(run.stderr).toContain('staging/(default) (1)');
      expect(run.stderr).toContain('--project <id>');
    }
    const restore = await runCli(['restore', 'latest', '--from', dir, '--to-dir', dir], env);
    expect(restore.code).toBe(2);
    expect(restore.stderr).toMatch(/more than one project/);
    expect((await readdir(dir)).length).toBe(4); // nothing deleted, nothing written
  });

  it('means the newest backup of the project named, and says what it is of first', async () => {
    const run = await runCli(
      ['verify', 'latest', '--from', dir, '--project', 'prod', '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({
      id: prod.id,
      of: { project: 'prod', database: '(default)' },
    });
    expect(run.stderr).toContain(`Backup ${prod.id} of prod/(default)`);
    const inspect = await runCli(
      ['inspect', 'latest', '--from', dir, '--project', 'staging', '--json'],
      env,
    );
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stderr).toContain(`Backup ${staging.id} of staging/(default)`);
    expect(inspect.json()).toMatchObject({ of: { project: 'staging', database: '(default)' } });
  });

  it('refuses a project with no backups, and an id of another project', async () => {
    const none = await runCli(['verify', 'latest', '--from', dir, '--project', 'nope'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/no backup of nope\/\*.*prod\/\(default\)/);
    const wrong = await runCli(['verify', staging.id, '--from', dir, '--project', 'prod'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/is of staging\/\(default\)/);
  });

  it('will not pass over a newer backup whose key is not held', async () => {
    const other = MasterKey.generate();
    const newer = await craftBackup(new LocalBackend(dir), other, sampleDocuments(2), {
      project: 'prod',
      createdAt: new Date('2026-03-01T00:00:00Z'),
    });
    const run = await runCli(['verify', 'latest', '--from', dir, '--project', 'prod'], env);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(newer.id);
    expect(run.stderr).toContain(other.id);
  });

  it('delete names the project before deleting, and works without the key for an id', async () => {
    const run = await runCli(['delete', staging.id, '--from', dir, '--yes', '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`Backup ${staging.id} of staging/(default)`);
    expect(run.json()).toMatchObject({ deleted: staging.id, of: { project: 'staging' } });
    const keyless = await runCli(['delete', prod.id, '--from', dir, '--yes'], {});
    expect(keyless.code, keyless.stderr).toBe(0);
    expect(keyless.stderr).toMatch(/key is not among the keys given/);
    expect(await readdir(dir)).toEqual([]);
  });
});

const host = inject('firestoreEmulatorHost');

describe.skipIf(!host)('"latest" restore from a folder with two projects (emulator)', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: host };
  let dir: string;
  let prod: string;
  let other: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-latest-emu-'));
    prod = testProject('latest-prod');
    other = testProject('latest-other');
    await seedDocuments(host, prod, { count: 30 });
    await seedDocuments(host, other, { count: 7 });
    for (const project of [prod, other]) {
      const run = await runCli(['backup', '--project', project, '--to', dir], env);
      expect(run.code, run.stderr).toBe(0);
    }
  }, 60_000);

  async function count(project: string): Promise<number> {
    const conn = await openFirestore({ projectId: project, emulatorHost: host });
    try {
      return (await readAllRaw(conn)).size;
    } finally {
      await conn.close();
    }
  }

  it("refuses without --project, and restores the named project's newest backup into another", async () => {
    const staging = testProject('latest-staging');
    const refused = await runCli(
      ['restore', 'latest', '--from', dir, '--to-project', staging],
      env,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${prod}/(default) (1)`);
    expect(refused.stderr).toContain(`${other}/(default) (1)`);
    expect(await count(staging)).toBe(0);

    const run = await runCli(
      ['restore', 'latest', '--from', dir, '--project', prod, '--to-project', staging, '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`Backup bkp_\\S+ of ${prod}/\\(default\\)`));
    expect(run.json()).toMatchObject({ created: 30, of: { project: prod, database: '(default)' } });
    expect(await count(staging)).toBe(30);
  }, 60_000);
});
