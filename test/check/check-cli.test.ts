import { mkdtemp, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/shared/check.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf, manifestKeyOf } from '../../src/engine/operations/backup-names.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { backupKeys, damage, keysOf } from '../helpers/damaged-destination.js';
import { runCli } from '../helpers/run-cli.js';

describe('firebackup check (CLI)', () => {
  it('reports per category, exits 3 on damage, repairs only old orphans, and compares the catalog', async () => {
    const key = MasterKey.generate();
    const home = await mkdtemp(path.join(tmpdir(), 'fb-check-home-'));
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-check-cli-'));
    const env = { ENCRYPTION_KEY: key.revealHex(), FIREBACKUP_HOME: home };
    const backend = new LocalBackend(dir);
    const d = await damage(backend, backend, key);

    const text = await runCli(['check', '--from', dir], env);
    expect(text.code, text.stderr).toBe(3);
    expect(text.stdout).toContain(`${d.flipped}`);
    expect(text.stdout).toMatch(/XX +Archives that differ from their manifest's digest: 1/);
    expect(text.stdout).toMatch(/Catalog|catalog/);
    expect(text.stdout).toContain('DAMAGE');

    // The catalog learns the destination, so the comparison runs.
    expect((await runCli(['catalog', 'rebuild', '--from', dir], env)).code).toBe(0);
    const json = await runCli(['check', '--from', dir, '--read-data', '1', '--json'], env);
    expect(json.code).toBe(3);
    const report = json.json<CheckReport>();
    expect(report.categories.data.items.map((i) => i.id)).toEqual([d.flipped]);
    expect(report.categories.catalogUnknown.status).toBe('checked');

    // Young orphans are kept even with --repair; old ones go.
    const young = await runCli(['check', '--from', dir, '--repair', '--json'], env);
    expect(young.json<CheckReport>().categories.orphanArchives.items[0]!.kept).toBeDefined();
    const old = new Date(Date.now() - 3 * 60 * 60 * 1000);
    await utimes(path.join(dir, archiveKeyOf(d.orphanArchive)), old, old);
    await utimes(path.join(dir, manifestKeyOf(d.orphanManifest)), old, old);
    const repaired = await runCli(['check', '--from', dir, '--repair', '--min-age', '2h'], env);
    expect(repaired.code).toBe(3); // the flipped archive is still damaged: repair never deletes backups
    expect(repaired.stdout).toContain('[removed]');
    expect(await keysOf(backend)).toEqual(backupKeys(d));

    const otherKey = await runCli(['check', '--from', dir], {
      ...env,
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
    });
    expect(otherKey.code).toBe(4);
    const bad = await runCli(['check', '--from', dir, '--read-data', '2'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--read-data');
    const badAge = await runCli(['check', '--from', dir, '--repair', '--min-age', '5 days'], env);
    expect(badAge.code).toBe(2);
  });
});
