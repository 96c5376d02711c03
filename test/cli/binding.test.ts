import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { createEngineOps } from '../../src/engine/jobs/engine-adapter.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf, manifestKeyOf } from '../../src/engine/operations/backup-names.js';
import { readManifest, writeManifest } from '../../src/engine/operations/manifest.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import { rebuildCatalog } from '../../src/engine/catalog/rebuild.js';
import { ManualClock } from '../../src/engine/clock.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { flipBitAtRest } from '../helpers/corruption-at-rest.js';
import { runCli } from '../helpers/run-cli.js';

/**
 * Issue #7 items 1 and 3, through the CLI on a local folder: an archive is read only as
 * the backup its manifest (or name) says it is, and one damaged manifest does not hide
 * the other backups.
 */
describe('archives bound to their backup (issue #7)', () => {
  let dir: string;
  let key: MasterKey;
  let env: NodeJS.ProcessEnv;
  let dest: LocalBackend;
  let a: { id: string };
  let b: { id: string };

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-bind-'));
    key = MasterKey.generate();
    env = { ENCRYPTION_KEY: key.revealHex() };
    dest = new LocalBackend(dir);
    a = await craftBackup(dest, key, sampleDocuments(20), {
      createdAt: new Date('2026-01-01T00:00:00Z'),
    });
    b = await craftBackup(dest, key, sampleDocuments(40), {
      createdAt: new Date('2026-02-01T00:00:00Z'),
    });
  });

  /** The attack: an older archive copied over a newer backup's. */
  const rollBack = () =>
    copyFile(path.join(dir, archiveKeyOf(a.id)), path.join(dir, archiveKeyOf(b.id)));

  it('refuses restore, inspect and verify of B when A.fbk was copied over B.fbk (exit 3, nothing written)', async () => {
    await rollBack();
    const out = path.join(dir, 'restored');
    for (const args of [
      ['restore', 'latest', '--from', dir, '--to-dir', out],
      ['restore', b.id, '--from', dir, '--to-dir', out],
      ['inspect', b.id, '--from', dir],
      ['inspect', 'latest', '--from', dir, '--path', 'products/d0'],
      ['verify', b.id, '--from', dir],
      ['verify', path.join(dir, archiveKeyOf(b.id))], // the manifest beside the file
    ]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stderr, args.join(' ')).toContain(`holds backup ${a.id}`);
      expect(run.stderr, args.join(' ')).toContain(b.id);
    }
    const json = await runCli(['verify', b.id, '--from', dir, '--json'], env);
    expect(json.json()).toMatchObject({ ok: false, error: { code: 'ARCHIVE_MISMATCH' } });
    expect(existsSync(out)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.includes('restored'))).toEqual([]);
  });

  it('refuses an archive whose bytes differ from its manifest, even when it authenticates', async () => {
    // A second, valid archive of the same backup (only the key holder can make one).
    const otherDir = await mkdtemp(path.join(tmpdir(), 'fb-bind-other-'));
    await craftBackup(new LocalBackend(otherDir), key, sampleDocuments(5), { id: b.id });
    await copyFile(path.join(otherDir, archiveKeyOf(b.id)), path.join(dir, archiveKeyOf(b.id)));
    const out = path.join(dir, 'restored');
    const run = await runCli(['restore', b.id, '--from', dir, '--to-dir', out], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/not the one its manifest describes/);
    expect(existsSync(out)).toBe(false);
    expect((await runCli(['inspect', b.id, '--from', dir], env)).code).toBe(3);
  });

  it('refuses an archive whose key is not the one its manifest names, before using a key', async () => {
    const manifest = await readManifest(dest, b.id, new Keyring(key));
    await writeManifest(dest, { ...manifest, keyId: 'k0123456789abcdef' }, key);
    const run = await runCli(['inspect', b.id, '--from', dir, '--json'], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      new RegExp(
        `${b.id}: the archive is encrypted with key ${key.id}, but its manifest names key k0123456789abcdef`,
      ),
    );
  });

  it('binds an archive file given alone to its name when no manifest is beside it, and says so', async () => {
    const lone = await mkdtemp(path.join(tmpdir(), 'fb-bind-lone-'));
    const renamed = path.join(lone, archiveKeyOf(b.id));
    await copyFile(path.join(dir, archiveKeyOf(a.id)), renamed);
    const out = path.join(lone, 'restored');
    for (const args of [
      ['verify', renamed],
      ['inspect', renamed],
      ['restore', renamed, '--to-dir', out],
    ]) {
      const run = await runCli(args, env);
      expect(run.code, args.join(' ')).toBe(3);
      expect(run.stderr).toContain(`holds backup ${a.id}`);
    }
    expect(existsSync(out)).toBe(false);

    const honest = path.join(lone, archiveKeyOf(a.id));
    await copyFile(path.join(dir, archiveKeyOf(a.id)), honest);
    const ok = await runCli(['verify', honest, '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json()).toMatchObject({ ok: true, binding: { manifest: false } });
    expect(ok.stderr).toMatch(/no manifest beside it: only its backup id was checked/);
    const inspect = await runCli(['inspect', honest], env);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stderr).toMatch(/no manifest beside it/);
    const restored = await runCli(['restore', honest, '--to-dir', out], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stderr).toMatch(/no manifest beside it/);
  });

  it('lists every backup when one manifest is damaged, marks it, and exits 1 naming it', async () => {
    const c = await craftBackup(dest, key, sampleDocuments(3), {
      createdAt: new Date('2026-03-01T00:00:00Z'),
    });
    await flipBitAtRest(dest, manifestKeyOf(b.id));
    const run = await runCli(['list', '--from', dir, '--json'], env);
    expect(run.code).toBe(1);
    const rows = run.json<Array<{ id: string; error?: { code: string } }>>();
    expect(rows.map((r) => r.id)).toEqual([c.id, b.id, a.id]);
    expect(rows[1]).toMatchObject({
      id: b.id,
      readable: false,
      error: { code: 'ARCHIVE_CORRUPT' },
    });
    expect(rows[0]!.error).toBeUndefined();
    expect(run.stderr).toContain(b.id);
    expect(run.stderr).toMatch(/firebackup verify/);
    const human = await runCli(['list', '--from', dir], env);
    expect(human.code).toBe(1);
    for (const id of [a.id, b.id, c.id]) expect(human.stdout).toContain(id);
    expect(human.stdout).toMatch(new RegExp(`${b.id}.*DAMAGED`));

    const verify = await runCli(['verify', b.id, '--from', dir], env);
    expect(verify.code).toBe(3);
    expect(verify.stderr).toContain(`The manifest of backup ${b.id} (${b.id}.fbm) is damaged`);

    // The jobs' list path (catalog rebuild) keeps the damaged backup, with no project
    // (so retention, which works per project, never deletes it).
    const catalog = Catalog.open(
      path.join(dir, 'catalog.sqlite'),
      new ManualClock('2026-03-02T00:00:00Z'),
    );
    const d = catalog.destinations.upsert({ name: 'here', url: dir });
    const ops = createEngineOps({ keyring: new Keyring(key), open: async () => dest });
    const rebuilt = await rebuildCatalog(catalog, (x) => ops.list(x));
    expect(rebuilt.destinations).toEqual([expect.objectContaining({ backups: 3, added: 3 })]);
    expect(rebuilt.destinations[0]!.error).toBeUndefined();
    const cataloged = catalog.backups.list({ destinationId: d.id });
    expect(cataloged.map((r) => r.id).sort()).toEqual([a.id, b.id, c.id].sort());
    expect(cataloged.find((r) => r.id === b.id)).toMatchObject({ firebaseProjectId: null });
  });
});
