import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { sampleFields, seedDocuments, testProject, writeRaw } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';
import { canMountTinyDisk, mountTinyDisk } from '../helpers/tiny-disk.js';

const host = inject('firestoreEmulatorHost');

/** Every document line of every NDJSON file in a restored folder, by path. */
async function restoredLines(dir: string): Promise<Map<string, unknown>> {
  const docs = new Map<string, unknown>();
  for (const file of await readdir(dir)) {
    if (file === 'backup.json') continue;
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      if (!line) continue;
      const doc = JSON.parse(line) as { path: string };
      expect(docs.has(doc.path), `${doc.path} twice`).toBe(false);
      docs.set(doc.path, doc);
    }
  }
  return docs;
}

const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

/** `restore --to-dir` through the real CLI, from backups of the Firestore emulator. */
describe.skipIf(!host)('restore --to-dir', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: host };

  async function backupOf(project: string): Promise<{ dir: string; id: string; count: number }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-todir-'));
    const run = await runCli(['backup', '--project', project, '--to', dir, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    const { id, documents } = run.json<{ id: string; documents: number }>();
    return { dir, id, count: documents };
  }

  describe('collection ids that are awkward as file names', () => {
    const ids = [
      'a'.repeat(300),
      'ü'.repeat(100), // 600 characters once percent-encoded
      'Users',
      'users', // one file with "Users" on a case-insensitive file system
      'CON',
      'nul',
      'Aux.txt',
      'lpt1',
      '.hidden',
      'star*s',
    ];
    let backup: { dir: string; id: string; count: number };
    let paths: string[];

    beforeAll(async () => {
      const project = testProject('todir-names');
      const conn = await openFirestore({ projectId: project, emulatorHost: host });
      paths = ids.flatMap((id) => [`${id}/d1`, `${id}/d2`, `${id}/d1/sub/s1`]);
      await writeRaw(
        conn,
        paths.map((p, i) => ({ path: p, fields: sampleFields(i, 300) })),
      );
      await conn.close();
      backup = await backupOf(project);
      expect(backup.count).toBe(paths.length);
    });

    it('restores every document, with names legal everywhere and the real ids in the index', async () => {
      const out = path.join(backup.dir, 'restored');
      const run = await runCli(
        ['restore', backup.id, '--from', backup.dir, '--to-dir', out, '--json'],
        env,
      );
      expect(run.code, run.stderr).toBe(0);
      const report = run.json<{
        documents: number;
        files: Array<{ collection: string; file: string; documents: number }>;
      }>();
      expect(report.documents).toBe(backup.count);

      const files = (await readdir(out)).filter((f) => f !== 'backup.json');
      expect(files).toHaveLength(ids.length);
      for (const f of files) {
        expect(Buffer.byteLength(f), f).toBeLessThanOrEqual(255);
        expect(f, f).toMatch(/^[A-Za-z0-9%~_.!'()-]+$/);
        expect(f.startsWith('.'), f).toBe(false);
        expect(WINDOWS_RESERVED.test(f.split('.')[0]!), f).toBe(false);
      }
      expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);

      const docs = await restoredLines(out);
      expect([...docs.keys()].sort()).toEqual([...paths].sort());

      const index = JSON.parse(await readFile(path.join(out, 'backup.json'), 'utf8')) as {
        documents: number;
        files: Array<{ collection: string; file: string; documents: number }>;
      };
      expect(index.documents).toBe(backup.count);
      expect(index.files.map((f) => f.collection).sort()).toEqual([...ids].sort());
      for (const f of index.files) {
        const lines = (await readFile(path.join(out, f.file), 'utf8')).trim().split('\n');
        expect(lines).toHaveLength(f.documents);
        for (const l of lines) {
          expect((JSON.parse(l) as { path: string }).path.startsWith(`${f.collection}/`)).toBe(
            true,
          );
        }
      }
    });

    it('writes owner-only files and folders whatever the umask', async () => {
      const out = path.join(backup.dir, 'private', 'restored');
      const old = process.umask(0);
      try {
        const run = await runCli(
          ['restore', backup.id, '--from', backup.dir, '--to-dir', out],
          env,
        );
        expect(run.code, run.stderr).toBe(0);
      } finally {
        process.umask(old);
      }
      expect((await stat(out)).mode & 0o777).toBe(0o700);
      expect((await stat(path.dirname(out))).mode & 0o777).toBe(0o700);
      for (const f of await readdir(out)) {
        expect((await stat(path.join(out, f))).mode & 0o777, f).toBe(0o600);
      }
    });
  });

  it.runIf(canMountTinyDisk)(
    'fails on a write error (a full disk), exits non-zero and leaves no folder',
    async () => {
      const project = testProject('todir-full');
      await seedDocuments(host, project, { count: 60, docBytes: 4000 });
      const backup = await backupOf(project);
      const disk = mountTinyDisk(64)!; // the NDJSON is about 240 KB; the archive much less
      try {
        const out = path.join(disk.dir, 'restored');
        const run = await runCli(
          ['restore', backup.id, '--from', backup.dir, '--to-dir', out, '--json'],
          env,
        );
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/disk is full/);
        expect(run.json()).toMatchObject({ ok: false, error: { code: 'NO_SPACE' } });
        expect(await readdir(disk.dir)).toEqual([]);
      } finally {
        disk.unmount();
      }
    },
  );

  it('sweeps the plaintext a killed restore left, at the start of the next one', async () => {
    const project = testProject('todir-kill');
    await seedDocuments(host, project, { count: 20000, docBytes: 300 });
    const backup = await backupOf(project);
    const out = path.join(backup.dir, 'restored');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'test/helpers/cli-entry.ts',
        'restore',
        backup.id,
        '--from',
        backup.dir,
        '--to-dir',
        out,
      ],
      { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const leftovers = async (): Promise<string[]> =>
      (await readdir(backup.dir)).filter((f) => f.startsWith('.restored.fbtmp-'));
    // Kill it once its temporary folder holds some plaintext.
    let killed = false;
    await new Promise<void>((resolve) => {
      const timer = setInterval(async () => {
        const [temp] = await leftovers();
        if (temp && (await readdir(path.join(backup.dir, temp)).catch(() => [])).length > 0) {
          child.kill('SIGKILL');
          killed = true;
          clearInterval(timer);
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
    expect(killed, 'the restore finished before it could be killed').toBe(true);
    expect(existsSync(out)).toBe(false);
    expect(await leftovers()).toHaveLength(1);

    const rerun = await runCli(
      ['restore', backup.id, '--from', backup.dir, '--to-dir', out, '--json'],
      env,
    );
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.json()).toMatchObject({
      documents: 20000,
      sweptTemporaries: [expect.any(String)],
    });
    expect(await leftovers()).toEqual([]);
  }, 180_000);
});
