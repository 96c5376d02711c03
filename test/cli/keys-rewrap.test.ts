import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { beforeEach, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { openDestination } from '../../src/engine/storage/index.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { runCli } from '../helpers/run-cli.js';

describe('firebackup keys rewrap, and key checks at the CLI', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-rewrap-cli-'));
  });

  it('re-wraps backups made with two old keys; then the new key alone reads them', async () => {
    const [old1, old2, current] = [
      MasterKey.generate(),
      MasterKey.generate(),
      MasterKey.generate(),
    ];
    const dest = new LocalBackend(dir);
    const a = await craftBackup(dest, old1, sampleDocuments(4), {
      createdAt: new Date('2026-01-01'),
    });
    const b = await craftBackup(dest, old2, sampleDocuments(6), {
      createdAt: new Date('2026-01-02'),
    });
    const env = {
      ENCRYPTION_KEY: current.revealHex(),
      ENCRYPTION_OLD_KEYS: `${old1.revealHex()},${old2.revealHex()}`,
    };

    const dry = await runCli(['keys', 'rewrap', '--from', dir, '--dry-run'], env);
    expect(dry.code).toBe(0);
    expect(dry.stderr).toContain(
      `${a.id}: would be re-wrapped from key ${old1.id} to ${current.id}`,
    );
    expect(dry.stdout).toContain('2 would move onto key');

    const run = await runCli(['keys', 'rewrap', '--from', dir, '--json'], env);
    expect(run.code).toBe(0);
    expect(run.json<Array<{ id: string; action: string }>>().map((r) => [r.id, r.action])).toEqual([
      [a.id, 'rewrapped'],
      [b.id, 'rewrapped'],
    ]);

    const onlyNew = { ENCRYPTION_KEY: current.revealHex() };
    const list = await runCli(['list', '--from', dir, '--json'], onlyNew);
    expect(list.json<Array<{ keyId: string; readable: boolean }>>()).toEqual([
      expect.objectContaining({ keyId: current.id, readable: true }),
      expect.objectContaining({ keyId: current.id, readable: true }),
    ]);
    for (const id of [a.id, b.id]) {
      expect((await runCli(['verify', id, '--from', dir], onlyNew)).code).toBe(0);
    }
    const again = await runCli(['keys', 'rewrap', '--from', dir], env);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`${a.id}: already under key ${current.id}`);
  });

  it('exits 4 for a key file others can read, naming its permissions as ssh does', async () => {
    const file = path.join(dir, 'key.hex');
    await writeFile(file, `${MasterKey.generate().revealHex()}\n`, { mode: 0o600 });
    await chmod(file, 0o644);
    const run = await runCli(['list', '--from', dir, '--key-file', file]);
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(`Permissions 0644 for '${file}' are too open`);
    await chmod(file, 0o600);
    expect((await runCli(['list', '--from', dir, '--key-file', file])).code).toBe(0);
  });

  it('exits 4 for a patterned key', async () => {
    const run = await runCli(['list', '--from', dir], { ENCRYPTION_KEY: 'deadbeef'.repeat(8) });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/only 4 distinct byte values.*keys generate/);
  });
});

const s3 = inject('s3Endpoint');

describe.skipIf(!s3)('firebackup keys rewrap on S3 (s3rver)', () => {
  it('re-wraps backups in a bucket; the new key alone then lists and verifies them', async () => {
    const [old, current] = [MasterKey.generate(), MasterKey.generate()];
    const url = `s3://${TEST_BUCKET}/rewrap-${randomBytes(3).toString('hex')}`;
    const options = { endpoint: s3, ...S3RVER_CREDENTIALS, region: 'us-east-1' };
    const dest = await openDestination(url, options);
    const a = await craftBackup(dest, old, sampleDocuments(20));
    const config = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rewrap-s3-')), 's3.json');
    await writeFile(config, JSON.stringify(options));
    const flags = ['--destination-config', config];
    const env = { ENCRYPTION_KEY: current.revealHex(), ENCRYPTION_OLD_KEYS: old.revealHex() };
    const run = await runCli(['keys', 'rewrap', '--from', url, ...flags], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`${a.id}: re-wrapped from key ${old.id} to ${current.id}`);
    const onlyNew = { ENCRYPTION_KEY: current.revealHex() };
    expect((await runCli(['verify', a.id, '--from', url, ...flags], onlyNew)).code).toBe(0);
    const list = await runCli(['list', '--from', url, ...flags, '--json'], onlyNew);
    expect(list.json<Array<{ keyId: string }>>()).toEqual([
      expect.objectContaining({ id: a.id, keyId: current.id, readable: true }),
    ]);
  });
});
