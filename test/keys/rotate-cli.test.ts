import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const firestore = inject('firestoreEmulatorHost');

describe.skipIf(!firestore)('firebackup keys rotate', () => {
  let project: string;
  beforeAll(async () => {
    project = testProject('rotate');
    await seedDocuments(firestore, project, { count: 120 });
  });

  it('rotates by hand; backups before and after are both listed, verified and restored', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-rotate-home-'));
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-rotate-'));
    const first = MasterKey.generate();
    const env = {
      ENCRYPTION_KEY: first.revealHex(),
      FIREBACKUP_HOME: home,
      FIRESTORE_EMULATOR_HOST: firestore,
    };
    const backup = async (e: NodeJS.ProcessEnv): Promise<string> => {
      const r = await runCli(['backup', '--project', project, '--to', dir, '--json', '-q'], e);
      expect(r.code, r.stderr).toBe(0);
      return r.json<{ id: string }>().id;
    };
    const before = await backup(env);

    const rotated = await runCli(['keys', 'rotate', '--json'], env);
    expect(rotated.code, rotated.stderr).toBe(0);
    const { keyId, previousKeyId, keyStore } = rotated.json<{
      keyId: string;
      previousKeyId: string;
      keyStore: string;
    }>();
    expect(previousKeyId).toBe(first.id);
    expect(keyStore).toBe(path.join(home, 'keys.json'));
    expect(rotated.stderr).toMatch(/BACK IT UP NOW/);
    expect((await stat(keyStore)).mode & 0o777).toBe(0o600);
    // The key is never printed, only its id.
    expect(rotated.stdout + rotated.stderr).not.toContain(first.revealHex());

    // The stale ENCRYPTION_KEY is still set: the store decides, new backups get the new key.
    const after = await backup(env);
    const listed = await runCli(['list', '--from', dir, '--json'], env);
    expect(listed.json<Array<{ id: string; keyId: string }>>().map((b) => [b.id, b.keyId])).toEqual(
      [
        [after, keyId],
        [before, first.id],
      ],
    );

    // The store alone reads both.
    const storeOnly = { FIREBACKUP_HOME: home };
    for (const id of [before, after]) {
      const verify = await runCli(['verify', id, '--from', dir], storeOnly);
      expect(verify.code, verify.stderr).toBe(0);
      const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rotate-out-')), 'r');
      const restore = await runCli(
        ['restore', id, '--from', dir, '--to-dir', out, '-q'],
        storeOnly,
      );
      expect(restore.code, restore.stderr).toBe(0);
      expect((await readdir(out)).length).toBeGreaterThan(0);
    }

    const keys = await runCli(['keys', 'list', '--json'], storeOnly);
    expect(keys.json<{ keys: Array<{ id: string; current: boolean }> }>().keys).toEqual([
      expect.objectContaining({ id: first.id, current: false }),
      expect.objectContaining({ id: keyId, current: true }),
    ]);

    // A key the store does not hold, given as ENCRYPTION_KEY, is refused (exit 4).
    const other = await runCli(['list', '--from', dir], {
      ...storeOnly,
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
    });
    expect(other.code).toBe(4);
    expect(other.stderr).toMatch(/not in the key store/);
  });
});
