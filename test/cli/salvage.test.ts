import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { archiveLayout, type ArchiveLayout } from '../helpers/archive-layout.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { readAllRaw, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const BLOCK = 4096;
type Shape = ArchiveLayout;
const DOCS = sampleDocuments(400);

/** Paths of the documents whose record lies wholly in plaintext blocks not in `lost`. */
function intactPaths(
  records: Array<{ path?: string; start: number; end: number }>,
  lost: (block: number) => boolean,
): string[] {
  return records
    .filter((r) => {
      if (!r.path) return false;
      for (let b = Math.floor(r.start / BLOCK); b <= Math.floor((r.end - 1) / BLOCK); b++) {
        if (lost(b)) return false;
      }
      return true;
    })
    .map((r) => r.path!)
    .sort();
}

async function restoredPaths(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const file of await readdir(dir)) {
    if (file === 'backup.json') continue;
    for (const line of (await readFile(path.join(dir, file), 'utf8')).split('\n')) {
      if (line) paths.push((JSON.parse(line) as { path: string }).path);
    }
  }
  return paths.sort();
}

/**
 * restore --salvage (issue 11): a damaged archive restores exactly the documents whose
 * records lie wholly in segments that authenticate, says what it skipped, exits 1;
 * without --salvage it still restores nothing (exit 3).
 */
describe('restore --salvage of a damaged archive', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex() };

  /** A real backup in a new folder, its archive replaced by `damage(archive)`. */
  async function damagedBackup(damage: (archive: Buffer, s: Shape) => Buffer) {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-salvage-'));
    const { id, archive } = await craftBackup(new LocalBackend(dir), key, DOCS, {
      blockSize: BLOCK,
    });
    const shape = await archiveLayout(archive, key);
    expect(shape.segments.length).toBeGreaterThan(8);
    await writeFile(path.join(dir, archiveKeyOf(id)), damage(archive, shape));
    return { dir, id, shape };
  }

  async function restore(dir: string, id: string, extra: string[]) {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-salvage-out-')), 'r');
    const run = await runCli(['restore', id, '--from', dir, '--to-dir', out, ...extra], env);
    return { run, out };
  }

  function flipMiddle(archive: Buffer, shape: Shape, index: number): Buffer {
    const copy = Buffer.from(archive);
    const seg = shape.segments[index]!;
    const mid = Math.floor((seg.start + seg.end) / 2);
    for (let i = mid; i < mid + 8; i++) copy[i] = copy[i]! ^ 0xff;
    return copy;
  }

  const cases: Array<{
    name: string;
    damage: (archive: Buffer, s: Shape) => Buffer;
    lost: (block: number) => boolean;
    says: RegExp;
  }> = [
    {
      name: 'one segment flipped in the middle',
      damage: (a, s) => flipMiddle(a, s, 4),
      lost: (b) => b === 4,
      says: /skipped segment 4 \(bytes \d+–\d+\): .*failed authentication/,
    },
    {
      name: 'truncated after six segments',
      damage: (a, s) => a.subarray(0, s.segments[5]!.end),
      lost: (b) => b >= 6,
      says: /reading stopped early: The archive is truncated/,
    },
    {
      name: 'truncated inside the seventh segment',
      damage: (a, s) => a.subarray(0, s.segments[6]!.start + 100),
      lost: (b) => b >= 6,
      says: /reading stopped early: The archive is truncated: it ends inside segment 6/,
    },
    {
      name: 'a damaged first segment',
      damage: (a, s) => flipMiddle(a, s, 0),
      lost: (b) => b === 0,
      says: /skipped segment 0 .*\n(.*\n)*.*the backup header was lost/,
    },
  ];

  for (const c of cases) {
    it(`${c.name}: restores exactly the intact documents, says what it skipped, exits 1`, async () => {
      const { dir, id, shape } = await damagedBackup(c.damage);
      const expected = intactPaths(shape.records, c.lost);
      expect(expected.length).toBeGreaterThan(0);
      expect(expected.length).toBeLessThan(DOCS.length);

      const plain = await restore(dir, id, []);
      expect(plain.run.code, plain.run.stderr).toBe(3);
      await expect(readdir(plain.out)).rejects.toThrow();

      const { run, out } = await restore(dir, id, ['--salvage']);
      expect(run.code, run.stderr).toBe(1);
      expect(run.stderr).toMatch(/Partial restore \(--salvage\)/);
      expect(run.stderr).toMatch(c.says);
      expect(run.stderr).toContain(
        `${expected.length} of ${DOCS.length} documents recovered; ${DOCS.length - expected.length} lost or could not be located`,
      );
      expect(run.stderr).toMatch(/trailer check: not verifiable/);
      expect(run.stdout).toMatch(/PARTIAL restore/);
      expect(await restoredPaths(out)).toEqual(expected);
    });
  }

  it('an intact archive under --salvage restores everything and exits 0', async () => {
    const { dir, id } = await damagedBackup((a) => a);
    const { run, out } = await restore(dir, id, ['--salvage']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/nothing was skipped/);
    expect(await restoredPaths(out)).toEqual(DOCS.map((d) => d.path).sort());
  });

  it("still refuses another backup's archive put in this one's place", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-salvage-swap-'));
    const backend = new LocalBackend(dir);
    const mine = await craftBackup(backend, key, DOCS.slice(0, 50), { blockSize: BLOCK });
    const other = await craftBackup(backend, key, DOCS.slice(50), { blockSize: BLOCK });
    await writeFile(path.join(dir, archiveKeyOf(mine.id)), other.archive);
    const { run, out } = await restore(dir, mine.id, ['--salvage']);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(new RegExp(`holds backup ${other.id}, not ${mine.id}`));
    await expect(readdir(out)).rejects.toThrow();
  });

  it.skipIf(!inject('firestoreEmulatorHost'))(
    'into Firestore: writes exactly the intact documents, exits 1; without --salvage writes nothing (exit 3)',
    async () => {
      const host = inject('firestoreEmulatorHost');
      const { dir, id, shape } = await damagedBackup((a, s) => flipMiddle(a, s, 4));
      const expected = intactPaths(shape.records, (b) => b === 4);
      const into = async (project: string, extra: string[]) => {
        const run = await runCli(
          ['restore', id, '--from', dir, '--to-project', project, '--emulator', host, ...extra],
          env,
        );
        const conn = await openFirestore({ projectId: project, emulatorHost: host });
        try {
          return { run, paths: [...(await readAllRaw(conn)).keys()].sort() };
        } finally {
          await conn.close();
        }
      };
      const refused = await into(testProject('nosalvage'), []);
      expect(refused.run.code, refused.run.stderr).toBe(3);
      expect(refused.paths).toEqual([]);

      const salvaged = await into(testProject('salvage'), ['--salvage']);
      expect(salvaged.run.code, salvaged.run.stderr).toBe(1);
      expect(salvaged.run.stderr).toMatch(/Partial restore \(--salvage\)/);
      expect(salvaged.run.stderr).toMatch(/skipped segment 4 /);
      expect(salvaged.run.stdout).toMatch(/PARTIAL restore/);
      expect(salvaged.paths).toEqual(expected);
    },
    60_000,
  );
});
