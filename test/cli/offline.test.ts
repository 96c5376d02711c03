import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { runCli } from '../helpers/run-cli.js';

/** The CLI's offline paths (no Firebase needed): keys, list, verify, inspect, restore --to-dir. */
describe('firebackup CLI, offline', () => {
  let dir: string;
  let key: MasterKey;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-cli-'));
    key = MasterKey.generate();
    env = { ENCRYPTION_KEY: key.revealHex() };
  });

  it('prints help and the version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['backup', 'list', 'verify', 'inspect', 'restore', 'keys'])
      expect(help.stdout).toContain(command);
    expect((await runCli(['--version'])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('generates a key on stdout, or into a private file', async () => {
    const run = await runCli(['keys', 'generate']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^[0-9a-f]{64}$/);
    const file = path.join(dir, 'key.hex');
    const toFile = await runCli(['keys', 'generate', '--out', file, '--json']);
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).not.toMatch(/[0-9a-f]{64}/);
    expect((await readFile(file, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await import('node:fs')).statSync(file).mode & 0o777).toBe(0o600);
    expect((await runCli(['keys', 'generate', '--out', file])).code).not.toBe(0); // never overwrites a key
  });

  it('lists backups newest first, with counts and key ids; --json for programs', async () => {
    const dest = new LocalBackend(dir);
    const older = await craftBackup(dest, key, sampleDocuments(5), {
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    const newer = await craftBackup(dest, key, sampleDocuments(7), {
      createdAt: new Date('2026-02-01T00:00:00Z'),
    });
    await writeFile(path.join(dir, 'unrelated.txt'), 'not a backup');
    const run = await runCli(['list', '--from', dir, '--json'], env);
    expect(run.code).toBe(0);
    const rows =
      run.json<Array<{ id: string; documents: number; keyId: string; readable: boolean }>>();
    expect(rows.map((r) => r.id)).toEqual([newer.id, older.id]);
    expect(rows[0]).toMatchObject({ documents: 7, keyId: key.id, readable: true });
    const human = await runCli(['list', '--from', dir], env);
    expect(human.stdout).toContain(newer.id);
    expect(human.stdout).toContain('demo-crafted');
  });

  it('lists backups whose key is not held, without their details', async () => {
    const dest = new LocalBackend(dir);
    const other = MasterKey.generate();
    await craftBackup(dest, other, sampleDocuments(3));
    const rows = (await runCli(['list', '--from', dir, '--json'], env)).json<
      Array<{ keyId: string; readable: boolean }>
    >();
    expect(rows).toEqual([expect.objectContaining({ keyId: other.id, readable: false })]);
  });

  it('hides a backup whose manifest was never written (an interrupted run)', async () => {
    const dest = new LocalBackend(dir);
    const { id } = await craftBackup(dest, key, sampleDocuments(3));
    await dest.delete(`${id}.fbm`);
    expect((await runCli(['list', '--from', dir, '--json'], env)).json()).toEqual([]);
  });

  it('verifies a good backup by id, by "latest" and by file path', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(50));
    for (const args of [
      [id, '--from', dir],
      ['latest', '--from', dir],
      [path.join(dir, archiveKeyOf(id))],
    ]) {
      const run = await runCli(['verify', ...args, '--json'], env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.json()).toMatchObject({ ok: true, documents: 50 });
    }
  });

  it('fails verification with exit code 3 and names the backup when a byte changed at rest', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(50));
    const file = path.join(dir, archiveKeyOf(id));
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x10;
    await writeFile(file, bytes);
    const run = await runCli(['verify', id, '--from', dir], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(id);
    expect(run.stderr).toMatch(/failed authentication|corrupt/);
  });

  it('checks only the stored digest with --digest-only, and names the backup when it differs', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(50));
    const quick = await runCli(['verify', id, '--from', dir, '--digest-only', '--json'], env);
    expect(quick.code, quick.stderr).toBe(0);
    expect(quick.json()).toMatchObject({ ok: true, depth: 'digest', manifestChecked: true });
    const file = path.join(dir, archiveKeyOf(id));
    const bytes = await readFile(file);
    bytes[bytes.length - 1]! ^= 0x01;
    await writeFile(file, bytes);
    const run = await runCli(['verify', id, '--from', dir, '--digest-only'], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`${id}: the stored archive differs`));
  });

  it('fails verification of a truncated archive', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(50));
    const file = path.join(dir, archiveKeyOf(id));
    const bytes = await readFile(file);
    await writeFile(file, bytes.subarray(0, bytes.length - 100));
    const run = await runCli(['verify', file], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/truncated/);
  });

  it('refuses with exit code 4 and names the key id when the key is wrong', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(5));
    const other = MasterKey.generate();
    const run = await runCli(['verify', id, '--from', dir], { ENCRYPTION_KEY: other.revealHex() });
    expect(run.code).toBe(4);
    expect(run.stderr).toContain(key.id);
    expect(run.stderr).toContain('ENCRYPTION_OLD_KEYS');
    expect(run.stderr + run.stdout).not.toContain(other.revealHex());
  });

  it('reads a backup made with a rotated-out key through ENCRYPTION_OLD_KEYS', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(5));
    const run = await runCli(['verify', id, '--from', dir], {
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
      ENCRYPTION_OLD_KEYS: key.revealHex(),
    });
    expect(run.code, run.stderr).toBe(0);
  });

  it('refuses a malformed key, saying how to make one', async () => {
    const run = await runCli(['list', '--from', dir], { ENCRYPTION_KEY: '1234' });
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/64 hex characters.*keys generate/);
    expect(run.stderr).not.toContain('1234');
  });

  it('refuses an archive of an unknown format version with exit code 3', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(5));
    const file = path.join(dir, archiveKeyOf(id));
    const bytes = await readFile(file);
    bytes.writeUInt16BE(9, 8);
    await writeFile(file, bytes);
    const run = await runCli(['verify', file], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/format version 9.*Upgrade/);
  });

  it('inspects collections with counts, and one document, without restoring', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(30));
    const run = await runCli(['inspect', id, '--from', dir, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const report = run.json<{
      documents: number;
      collections: Array<{ collection: string; documents: number }>;
    }>();
    expect(report.documents).toBe(30);
    expect(report.collections).toEqual([
      { collection: 'products', documents: 10 },
      { collection: 'users', documents: 10 },
      { collection: 'users/{id}/orders', documents: 10 },
    ]);
    const one = await runCli(
      ['inspect', id, '--from', dir, '--path', 'users/u2/orders/o2', '--json'],
      env,
    );
    expect(one.json()).toMatchObject({
      path: 'users/u2/orders/o2',
      fields: { big: { integerValue: '9007199254740993' } },
    });
    const missing = await runCli(['inspect', id, '--from', dir, '--path', 'users/nobody'], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No document users/nobody');
  });

  it('restores to plain NDJSON files, one per root collection, with exact values', async () => {
    const docs = sampleDocuments(30);
    const { id } = await craftBackup(new LocalBackend(dir), key, docs);
    const out = path.join(dir, 'restored');
    const run = await runCli(['restore', id, '--from', dir, '--to-dir', out, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(out)).sort()).toEqual(['backup.json', 'products.ndjson', 'users.ndjson']);
    const lines = (await readFile(path.join(out, 'users.ndjson'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toEqual(docs.filter((d) => d.path.startsWith('users/')));
  });

  it('restores only the selected collections to files', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(30));
    const out = path.join(dir, 'only-orders');
    const run = await runCli(
      ['restore', id, '--from', dir, '--to-dir', out, '--paths', 'users/u2/orders', '--json'],
      env,
    );
    expect(run.json()).toMatchObject({ documents: 1 });
  });

  it('writes nothing from an archive that fails authentication, even at its very end', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(200));
    const file = path.join(dir, archiveKeyOf(id));
    const bytes = await readFile(file);
    bytes[bytes.length - 3]! ^= 1; // in the final segment's tag
    await writeFile(file, bytes);
    const out = path.join(dir, 'restored');
    const run = await runCli(['restore', id, '--from', dir, '--to-dir', out], env);
    expect(run.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.includes('restored'))).toEqual([]);
  });

  it('refuses to restore into a folder that is not empty', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(3));
    const out = path.join(dir, 'busy');
    await (await import('node:fs/promises')).mkdir(out);
    await writeFile(path.join(out, 'keep.txt'), 'mine');
    const run = await runCli(['restore', id, '--from', dir, '--to-dir', out], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/not empty/);
    expect(await readFile(path.join(out, 'keep.txt'), 'utf8')).toBe('mine');
  });

  it('deletes one backup only when told --yes, manifest first', async () => {
    const dest = new LocalBackend(dir);
    const keep = await craftBackup(dest, key, sampleDocuments(3), {
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    const gone = await craftBackup(dest, key, sampleDocuments(3), {
      createdAt: new Date('2026-02-01T00:00:00Z'),
    });
    const unsure = await runCli(['delete', gone.id, '--from', dir], env);
    expect(unsure.code).toBe(2);
    expect(unsure.stderr).toMatch(/--yes/);
    expect((await readdir(dir)).filter((f) => f.startsWith(gone.id))).toHaveLength(2);
    const run = await runCli(['delete', 'latest', '--from', dir, '--yes'], env);
    expect(run.code, run.stderr).toBe(0);
    expect((await readdir(dir)).sort()).toEqual([`${keep.id}.fbk`, `${keep.id}.fbm`]);
  });

  it('explains usage mistakes with exit code 2', async () => {
    expect((await runCli(['backup'])).code).toBe(2);
    const both = await runCli(['restore', 'latest', '--from', dir], env);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--to-project.*--to-dir/);
    const badId = await runCli(['verify', 'nonsense', '--from', dir], env);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/not a backup id/);
    const missing = await runCli(
      ['verify', 'bkp_20260101T000000000Z_00000000', '--from', dir],
      env,
    );
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/firebackup list --from/);
  });
});
