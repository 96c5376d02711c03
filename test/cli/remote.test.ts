import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';

const firestore = inject('firestoreEmulatorHost');
const s3 = inject('s3Endpoint');
const gcs = inject('gcsEmulatorHost');

/**
 * The CLI with remote destinations: the same commands take s3:// and gs:// URLs, with
 * options from flags (made from each back end's schema) and a --destination-config file.
 */
describe.skipIf(!firestore || !s3 || !gcs)('firebackup CLI with S3 and GCS destinations', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestore };
  let project: string;
  let s3Config: string;

  beforeAll(async () => {
    project = testProject('cli-remote');
    await seedDocuments(firestore, project, { count: 1500, withSubcollections: true });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-remote-'));
    // Secrets never go on a command line: they come from a config file (or the environment).
    s3Config = path.join(dir, 's3.json');
    await writeFile(s3Config, JSON.stringify({ ...S3RVER_CREDENTIALS, region: 'us-east-1' }));
  });

  const cases = [
    {
      name: 's3',
      url: () => `s3://${TEST_BUCKET}/cli-${randomBytes(3).toString('hex')}`,
      flags: () => ['--s3-endpoint', s3, '--destination-config', s3Config],
    },
    {
      name: 'gs',
      url: () => `gs://firebackup-cli-${randomBytes(3).toString('hex')}/backups`,
      flags: () => ['--gs-emulator-host', gcs, '--gs-project-id', 'demo-gcs'],
    },
  ];

  for (const c of cases) {
    it(`backs up to ${c.name}://, lists, verifies and restores from it`, async () => {
      const url = c.url();
      const backup = await runCli(
        ['backup', '--project', project, '--to', url, ...c.flags(), '--json'],
        env,
      );
      expect(backup.code, backup.stderr).toBe(0);
      const { id } = backup.json<{ id: string }>();
      const list = await runCli(['list', '--from', url, ...c.flags(), '--json'], env);
      expect(list.code, list.stderr).toBe(0);
      expect(list.json<Array<{ id: string; documents: number }>>()).toEqual([
        expect.objectContaining({ id, documents: 1500 }),
      ]);
      const verify = await runCli(['verify', 'latest', '--from', url, ...c.flags(), '--json'], env);
      expect(verify.json()).toMatchObject({ ok: true, manifestChecked: true, documents: 1500 });
      const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-remote-out-')), 'restored');
      const restore = await runCli(
        ['restore', id, '--from', url, ...c.flags(), '--to-dir', out, '--json'],
        env,
      );
      expect(restore.code, restore.stderr).toBe(0);
      expect(restore.json()).toMatchObject({ documents: 1500 });
      expect((await readdir(out)).length).toBeGreaterThan(1);
      for (const output of [backup, list, verify, restore]) {
        expect(output.stdout + output.stderr).not.toContain(S3RVER_CREDENTIALS.secretAccessKey);
      }
    });
  }

  it('schedules a backup to S3 with its non-secret options, and refuses to store a secret', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-home-'));
    const url = `s3://${TEST_BUCKET}/scheduled`;
    const base = [
      'schedule',
      'add',
      'nightly',
      '--project',
      project,
      '--to',
      url,
      '--cron',
      '0 2 * * *',
    ];
    const refused = await runCli([...base, '--s3-endpoint', s3, '--destination-config', s3Config], {
      ...env,
      FIREBACKUP_HOME: home,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/never stores secrets \(secretAccessKey\)/);
    const added = await runCli(
      [...base, '--s3-endpoint', s3, '--s3-region', 'us-east-1', '--json'],
      { ...env, FIREBACKUP_HOME: home },
    );
    expect(added.code, added.stderr).toBe(0);
    const catalog = await readFile(path.join(home, 'catalog.sqlite'));
    expect(catalog.includes(Buffer.from(s3))).toBe(true);
    expect(catalog.includes(Buffer.from(S3RVER_CREDENTIALS.secretAccessKey))).toBe(false);
  });

  it('says what a valid URL looks like when one is mistyped', async () => {
    for (const typo of ['s3:/bucket/x', 's3//bucket/x', 'gcs://bucket/x']) {
      const run = await runCli(['list', '--from', typo], env);
      expect(run.code, typo).toBe(2);
      expect(run.stderr).toMatch(/s3:\/\/my-bucket\/firebackup.*gs:\/\/my-bucket\/firebackup/);
    }
  });

  it('refuses options meant for another kind of destination', async () => {
    const run = await runCli(
      ['list', '--from', path.join(tmpdir(), 'x'), '--s3-region', 'eu-west-1'],
      env,
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--s3-region applies to s3:\/\/ destinations/);
  });

  it('offers flags for every non-secret option, and none for secrets', async () => {
    const help = await runCli(['backup', '--help']);
    expect(help.stdout).toContain('--s3-endpoint');
    expect(help.stdout).toContain('--s3-force-path-style');
    expect(help.stdout).toContain('--gs-emulator-host');
    expect(help.stdout).not.toContain('--s3-secret-access-key');
  });
});
