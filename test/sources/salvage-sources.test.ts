/**
 * restore --salvage of a damaged backup holding Firestore, Auth and Storage (made by the
 * real engine from the emulators): every user and object whose records lie wholly before,
 * between or after the damaged segments is recovered, exactly; an object whose content
 * the damage cut is left out whole and named; nothing lost goes unreported. Offline
 * (--to-dir) and into a second project and bucket.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { RecordType, encodeRecordPrefix } from '../../src/engine/archive/records.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { openAuth } from '../../src/engine/sources/auth/connection.js';
import { openStorageSource } from '../../src/engine/sources/storage/connection.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { archiveLayout, type ArchiveLayout } from '../helpers/archive-layout.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const firestoreHost = inject('firestoreEmulatorHost');
const gcsHost = inject('gcsEmulatorHost');
const auth = useAuthEmulator();
const BLOCK = 4096;

/** The users and objects whose records (an object's content included) avoid every lost block. */
function intact(layout: ArchiveLayout, lost: Set<number>): { users: string[]; objects: string[] } {
  const hit = (r: { start: number; end: number }): boolean => {
    for (let b = Math.floor(r.start / BLOCK); b <= Math.floor((r.end - 1) / BLOCK); b++) {
      if (lost.has(b)) return true;
    }
    return false;
  };
  const users: string[] = [];
  const objects: string[] = [];
  const { records } = layout;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (r.type === RecordType.AuthUser && !hit(r)) users.push(r.path!);
    if (r.type === RecordType.StorageObject) {
      let whole = !hit(r);
      for (let j = i + 1; records[j]?.type === RecordType.StorageContent; j++) {
        if (hit(records[j]!)) whole = false;
      }
      if (whole) objects.push(r.path!);
    }
  }
  return { users: users.sort(), objects: objects.sort() };
}

/**
 * Random bytes holding, every 500 bytes, what looks like a record prefix claiming 1 MiB:
 * random content holds one by chance about half the time, and reading on after the damage
 * must not wait on it (a flaky test until the fake prefixes were planted on purpose).
 */
function binaryContent(size: number): Buffer {
  const bytes = randomBytes(size);
  const fake = encodeRecordPrefix(RecordType.AuthUser, 1 << 20);
  for (let at = 250; at + fake.length <= size; at += 500) fake.copy(bytes, at);
  return bytes;
}

/** The block holding the middle of the n-th record of a type. */
function blockOf(layout: ArchiveLayout, type: RecordType, n: number): number {
  const r = layout.records.filter((x) => x.type === type)[n]!;
  return Math.floor((r.start + r.end) / 2 / BLOCK);
}

describe.skipIf(!firestoreHost || !gcsHost)(
  'restore --salvage of Auth users and Storage objects',
  () => {
    it('recovers every whole user and object before and after the damage, and names the rest', async () => {
      const project = testProject('salv-src');
      await seedDocuments(firestoreHost, project, { count: 20 });
      await openAuth({ projectId: project, emulatorHost: auth.host }).request(
        'POST',
        `/v1/projects/${project}/accounts:batchCreate`,
        {
          users: Array.from({ length: 300 }, (_, i) => ({
            localId: `u${String(i).padStart(3, '0')}`,
            email: `u${i}@example.com`,
            rawPassword: `pw-${i}`,
          })),
        },
      );
      const bucket = `salv-${randomBytes(4).toString('hex')}`;
      const storage = openStorageSource({ emulatorHost: gcsHost });
      const contents = new Map<string, Buffer>();
      for (let i = 0; i < 8; i++) {
        const name = `files/f${i}.bin`;
        contents.set(name, i === 0 ? Buffer.alloc(0) : binaryContent(10_000));
        await storage.bucket(bucket).file(name).save(contents.get(name)!, { resumable: false });
      }

      const key = MasterKey.generate();
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-salv-src-'));
      const result = await runBackup({
        destination: new LocalBackend(dir),
        keyring: new Keyring(key),
        source: { projectId: project, emulatorHost: firestoreHost },
        sources: ['firestore', 'auth', 'storage'],
        auth: { projectId: project, emulatorHost: auth.host },
        storage: { projectId: project, emulatorHost: gcsHost, buckets: [bucket] },
        blockSize: BLOCK,
      });
      const file = path.join(dir, archiveKeyOf(result.id));
      const archive = await readFile(file);
      const layout = await archiveLayout(archive, key);
      // One segment in the middle of the users, one inside the content of the fourth object.
      const lost = new Set([
        blockOf(layout, RecordType.AuthUser, 150),
        blockOf(layout, RecordType.StorageContent, 3),
      ]);
      const damaged = Buffer.from(archive);
      for (const b of lost) {
        const seg = layout.segments[b]!;
        const mid = Math.floor((seg.start + seg.end) / 2);
        for (let i = mid; i < mid + 8; i++) damaged[i] = damaged[i]! ^ 0xff;
      }
      await writeFile(file, damaged);
      const expected = intact(layout, lost);
      expect(expected.users.length).toBeLessThan(300);
      expect(expected.users.length).toBeGreaterThan(250);
      expect(expected.objects.length).toBeLessThan(8);
      const cut = [...contents.keys()].filter((n) => !expected.objects.includes(n));

      const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: firestoreHost };
      // Without --salvage nothing is restored.
      const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-salv-out-')), 'r');
      const refused = await runCli(['restore', result.id, '--from', dir, '--to-dir', out], env);
      expect(refused.code).toBe(3);

      const toDir = await runCli(
        ['restore', result.id, '--from', dir, '--to-dir', out, '--salvage', '--json'],
        env,
      );
      expect(toDir.code).toBe(1);
      const users = (await readFile(path.join(out, 'auth/users.ndjson'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { localId: string }).localId)
        .sort();
      expect(users).toEqual(expected.users);
      const objectsDir = path.join(out, 'storage', bucket, 'objects');
      const files = (await readdir(objectsDir)).map(decodeURIComponent).sort();
      expect(files).toEqual(expected.objects);
      for (const name of files) {
        expect(await readFile(path.join(objectsDir, encodeURIComponent(name)))).toEqual(
          contents.get(name),
        );
      }
      expect(toDir.json<{ salvage: unknown }>().salvage).toMatchObject({
        complete: false,
        sources: {
          usersRecovered: expected.users.length,
          usersExpected: 300,
          usersWithoutConfig: 0,
          objectsRecovered: expected.objects.length,
          objectsExpected: 8,
          objectsCut: expect.arrayContaining([`gs://${bucket}/${cut[0]}`]),
        },
      });

      // Into a second project and bucket: the same users and objects, passwords working.
      const target = testProject('salv-dst');
      const targetBucket = `salv-dst-${randomBytes(4).toString('hex')}`;
      const into = await runCli(
        [
          ...['restore', result.id, '--from', dir, '--to-project', target, '--salvage'],
          ...['--sources', 'auth,storage', '--auth-emulator', auth.host],
          ...['--storage-emulator', gcsHost, '--to-bucket', targetBucket],
        ],
        env,
      );
      expect(into.code).toBe(1);
      expect(into.stderr).toMatch(
        new RegExp(`${expected.users.length} of 300 Auth users recovered`),
      );
      expect(into.stderr).toContain(
        `left out, its content cut by the damage: gs://${bucket}/${cut[0]}`,
      );
      const [restored] = await storage.bucket(targetBucket).getFiles();
      expect(restored.map((f) => f.name).sort()).toEqual(expected.objects);
      const listed = await openAuth({ projectId: target, emulatorHost: auth.host }).request<{
        users?: unknown[];
      }>('GET', `/v1/projects/${target}/accounts:batchGet?maxResults=1000`);
      expect(listed.users).toHaveLength(expected.users.length);
    });
  },
);
