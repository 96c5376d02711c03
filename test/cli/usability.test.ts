import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/cli/output.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { toAppError } from '../../src/engine/sources/firestore/retry.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { fromFsError } from '../../src/engine/util/fs-errors.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { runCli } from '../helpers/run-cli.js';
import { spawnCli } from '../helpers/spawn-cli.js';

/** The "smaller things a careful user notices" of issue 11, each as the user met it. */
describe('firebackup CLI, small surprises', () => {
  let dir: string;
  let key: MasterKey;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fb-small-'));
    key = MasterKey.generate();
    env = { ENCRYPTION_KEY: key.revealHex() };
  });

  it('verify --digest-only without the key says why the key is needed (exit 4)', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(3));
    const run = await runCli(['verify', id, '--from', dir, '--digest-only'], {});
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/--digest-only.*manifest, which is encrypted/);
    const withKey = await runCli(['verify', id, '--from', dir, '--digest-only'], env);
    expect(withKey.code, withKey.stderr).toBe(0);
  });

  it('list without the key still shows id, date, size and key id, and says why the rest is missing', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(3), {
      createdAt: new Date('2026-03-04T05:06:07Z'),
    });
    const run = await runCli(['list', '--from', dir], {});
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(id);
    expect(run.stdout).toContain('2026-03-04 05:06:07');
    expect(run.stdout).toContain(key.id);
    expect(run.stdout).toMatch(/\d+(\.\d)? [KM]?B/);
    expect(run.stderr).toMatch(/1 of 1 backups were made with a key not given/);
  });

  it('deletes an archive file given by path with --yes, without --from', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(3));
    const run = await runCli(['delete', path.join(dir, `${id}.fbk`), '--yes'], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/from where/i);
    expect(await readdir(dir)).toEqual([]);
  });

  it('list --from a folder that does not exist is an error, not "No backups"', async () => {
    const run = await runCli(['list', '--from', path.join(dir, 'typo')], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/There is no folder .*typo/);
    const empty = await runCli(['list', '--from', dir], env);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toMatch(/No backups/);
  });

  it('a missing key file, or a folder given as one, is a key problem (exit 4) with an accurate message', async () => {
    const { id } = await craftBackup(new LocalBackend(dir), key, sampleDocuments(3));
    const missing = await runCli(['verify', id, '--from', dir, '--key-file', '/nope/key'], {});
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/key file \/nope\/key: it does not exist/);
    const folder = await runCli(['verify', id, '--from', dir, '--key-file', dir], {});
    expect(folder.code).toBe(4);
    expect(folder.stderr).toMatch(/it is a folder/);
    expect(folder.stderr).not.toMatch(/part of the path/);
  });

  it('keys generate --out an existing file says it exists and is never overwritten', async () => {
    const file = path.join(dir, 'key.hex');
    await writeFile(file, 'mine');
    const run = await runCli(['keys', 'generate', '--out', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists.*never overwritten/);
    expect(run.stderr).not.toMatch(/part of the path/);
  });

  it('an unreadable file is not met with advice about writing', () => {
    const eacces = Object.assign(new Error('EACCES'), { code: 'EACCES' });
    const error = fromFsError(eacces, 'Cannot read x.fbm in /b', 'read');
    expect(error.message).toMatch(/must be able to read it/);
    expect(error.message).not.toMatch(/write to/);
  });

  it("inspect's table is not padded to the width of the deepest collection path", async () => {
    const deep = Array.from({ length: 20 }, (_, i) => `c${i}/d${i}`).join('/');
    const docs = [...sampleDocuments(3), { ...sampleDocuments(1)[0]!, path: `${deep}/leaf/x` }];
    const { id } = await craftBackup(new LocalBackend(dir), key, docs);
    const run = await runCli(['inspect', id, '--from', dir], env);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /products|users/.test(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(line.length).toBeLessThan(40);
  });

  it('ends quietly when its output pipe is closed early (| head)', async () => {
    for (let i = 0; i < 3; i++) await craftBackup(new LocalBackend(dir), key, sampleDocuments(2));
    const run = spawnCli(['list', '--from', dir], env);
    run.child.stdout?.destroy();
    const result = await run.exited;
    expect(run.stderr()).not.toMatch(/EPIPE|\n\s+at /);
    expect(result.code).toBe(0);
  }, 30_000);

  it('progress shows no "0 B" for phases that count no bytes', () => {
    const line = formatProgress({
      phase: 'writing',
      items: 5,
      bytes: 0,
      itemsPerSecond: 10,
      bytesPerSecond: 0,
    } as Parameters<typeof formatProgress>[0]);
    expect(line).not.toMatch(/\b0 B\b/);
    expect(line).toContain('5 docs');
  });

  it('progress names what a phase counts: Storage objects are not "docs"', () => {
    const line = formatProgress({
      phase: 'reading Storage objects',
      items: 11,
      unit: 'objects',
      bytes: 1_100_000_000,
      itemsPerSecond: 3,
      bytesPerSecond: 300_000_000,
    });
    expect(line).toContain('11 objects');
    expect(line).toContain('3 objects/s');
    expect(line).not.toContain('docs');
  });

  it('strips gRPC\'s empty "Resolution note" from errors', () => {
    const error = toAppError(
      {
        code: 14,
        details: 'No connection established. Last error: connect ECONNREFUSED. Resolution note: ',
      },
      { endpoint: 'h:1', database: 'projects/p/databases/d', action: 'reading documents' },
    );
    expect(error.message).not.toMatch(/Resolution note/);
    expect(error.message).toContain('ECONNREFUSED');
  });

  it('help names unit flags whole and defaults plainly; the old spelling still works', async () => {
    const help = await runCli(['backup', '--help']);
    expect(help.stdout).toContain('--s3-part-size-mib');
    expect(help.stdout).not.toContain('-mi-b');
    const scheduleHelp = await runCli(['schedule', 'add', '--help']);
    expect(scheduleHelp.stdout).not.toContain('{"mode"');
    expect(scheduleHelp.stdout).toMatch(/default: full/);
    await mkdir(path.join(dir, 'x'));
    for (const flag of ['--s3-part-size-mib', '--s3-part-size-mi-b']) {
      const run = await runCli(['list', '--from', path.join(dir, 'x'), flag, '16'], env);
      expect(run.code, `${flag}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/--s3-part-size-mib applies to s3:\/\//);
    }
  });

  it('usage errors under --json print JSON too', async () => {
    const run = await runCli(['list', '--from', dir, '--json', '--bogus']);
    expect(run.code).toBe(2);
    expect(run.json()).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENT', message: expect.stringContaining('--bogus') },
    });
  });
});
