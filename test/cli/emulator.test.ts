import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { archiveKeyOf } from '../../src/engine/operations/backup-names.js';
import { listBackups } from '../../src/engine/operations/list.js';
import { openFirestore } from '../../src/engine/sources/firestore/connection.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { startFirestoreEmulator, emulatorJar } from '../helpers/firestore-emulator.js';
import { readAllRaw, seedDocuments, testProject, writeRaw } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';
import { canMountTinyDisk, mountTinyDisk } from '../helpers/tiny-disk.js';

const host = inject('firestoreEmulatorHost');

/** True once a database holds any document: one cheap query, so polling stays fast. */
async function hasDocuments(project: string): Promise<boolean> {
  const conn = await openFirestore({ projectId: project, emulatorHost: host });
  try {
    const stream = conn.client.runQuery(
      {
        parent: conn.documentsRoot,
        structuredQuery: { from: [{ allDescendants: true }], limit: { value: 1 } },
      },
      conn.callOptions(),
    );
    let found = false;
    for await (const r of stream as AsyncIterable<{ document?: unknown }>)
      if (r.document) found = true;
    return found;
  } finally {
    await conn.close();
  }
}

async function documentsIn(
  project: string,
  databaseId = '(default)',
): Promise<Map<string, unknown>> {
  const conn = await openFirestore({ projectId: project, databaseId, emulatorHost: host });
  try {
    const raw = await readAllRaw(conn);
    return new Map([...raw].map(([p, d]) => [p, d.fields]));
  } finally {
    await conn.close();
  }
}

/** The user's path through the CLI, against Google's Firestore emulator. */
describe.skipIf(!host)('firebackup CLI against the Firestore emulator', () => {
  const key = MasterKey.generate();
  const env = { ENCRYPTION_KEY: key.revealHex(), FIRESTORE_EMULATOR_HOST: host };
  let source: string;
  let dir: string;
  let backupId: string;
  let expected: Map<string, unknown>;

  beforeAll(async () => {
    source = testProject('cli-src');
    dir = await mkdtemp(path.join(tmpdir(), 'fb-e2e-'));
    await seedDocuments(host, source, { count: 600, withSubcollections: true });
    // Edge values and a reference into the source project, to see them remapped.
    const conn = await openFirestore({ projectId: source, emulatorHost: host });
    await writeRaw(conn, [
      {
        path: 'edge/values',
        fields: {
          int: { integerValue: '9223372036854775807' },
          dbl: { doubleValue: 1 },
          negZero: { doubleValue: -0 },
          nan: { doubleValue: NaN },
          ref: { referenceValue: `${conn.documentsRoot}/users/x` },
        },
      },
      { path: 'orphans/missing/children/1', fields: { ok: { booleanValue: true } } },
    ]);
    await conn.close();
    expected = await documentsIn(source);
    const run = await runCli(['backup', '--project', source, '--to', dir, '--json'], env);
    expect(run.code, run.stderr).toBe(0);
    backupId = run.json<{ id: string }>().id;
  });

  it('backs up every document, and reports progress and a summary', async () => {
    const run = await runCli(['backup', '--project', source, '--to', dir], env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Backup bkp_\S+: 602 documents/);
    expect(run.stderr).toMatch(/Backing up/);
    const list = await runCli(['list', '--from', dir, '--json'], env);
    const rows = list.json<Array<{ id: string; documents: number; project: string }>>();
    expect(rows.find((r) => r.id === backupId)).toMatchObject({ documents: 602, project: source });
  });

  it('verifies and inspects the backup', async () => {
    const verify = await runCli(['verify', backupId, '--from', dir, '--json'], env);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.json()).toMatchObject({ ok: true, documents: 602, manifestChecked: true });
    const inspect = await runCli(['inspect', backupId, '--from', dir, '--json'], env);
    const collections = inspect.json<{
      collections: Array<{ collection: string; documents: number }>;
    }>().collections;
    expect(collections).toContainEqual({ collection: 'orphans/{id}/children', documents: 1 });
  });

  it('restores into another project exactly, with references remapped', async () => {
    const target = testProject('cli-dst');
    const run = await runCli(
      ['restore', backupId, '--from', dir, '--to-project', target, '--json'],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json()).toMatchObject({ created: 602, failedCount: 0 });
    const restored = await documentsIn(target);
    expect(restored.size).toBe(expected.size);
    for (const [p, fields] of expected) {
      if (p === 'edge/values') continue;
      expect(restored.get(p), p).toEqual(fields);
    }
    const edge = restored.get('edge/values') as Record<string, Record<string, unknown>>;
    expect(edge.int).toMatchObject({ integerValue: '9223372036854775807' });
    expect(Object.is(edge.negZero!.doubleValue, -0)).toBe(true);
    expect(Number.isNaN(edge.nan!.doubleValue)).toBe(true);
    expect(edge.ref!.referenceValue).toBe(
      `projects/${target}/databases/(default)/documents/users/x`,
    );
  });

  it('plans with --dry-run and writes nothing; then create, create again (skips), overwrite, merge', async () => {
    const target = testProject('cli-modes');
    const restore = (...extra: string[]) =>
      runCli(['restore', backupId, '--from', dir, '--to-project', target, '--json', ...extra], env);
    const dry = await restore('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json()).toMatchObject({ planned: { create: 602, overwrite: 0, skip: 0 } });
    expect((await documentsIn(target)).size).toBe(0);

    expect((await restore('--collections', 'edge')).json()).toMatchObject({ created: 1 });
    expect((await restore()).json()).toMatchObject({ created: 601, skipped: 1 });
    const dry2 = await restore('--dry-run', '--mode', 'overwrite');
    expect(dry2.json()).toMatchObject({ planned: { create: 0, overwrite: 602 } });
    expect((await restore('--mode', 'overwrite')).json()).toMatchObject({ overwritten: 602 });
    const merge = await restore('--mode', 'merge', '--paths', 'edge/values');
    expect(merge.json()).toMatchObject({ merged: 1 });
  });

  it('backs up and restores a named database, leaving the default one alone', async () => {
    const project = testProject('cli-named');
    await seedDocuments(host, project, { count: 30, databaseId: 'named' });
    await seedDocuments(host, project, { count: 5 });
    const namedDir = await mkdtemp(path.join(tmpdir(), 'fb-e2e-named-'));
    const backup = await runCli(
      ['backup', '--project', project, '--database', 'named', '--to', namedDir, '--json'],
      env,
    );
    expect(backup.code, backup.stderr).toBe(0);
    expect(backup.json()).toMatchObject({ documents: 30, database: 'named' });
    const target = testProject('cli-named-dst');
    const restore = await runCli(
      [
        'restore',
        'latest',
        '--from',
        namedDir,
        '--to-project',
        target,
        '--database',
        'named',
        '--json',
      ],
      env,
    );
    expect(restore.json()).toMatchObject({ created: 30 });
    expect((await documentsIn(target, 'named')).size).toBe(30);
    expect((await documentsIn(target)).size).toBe(0);
  });

  it('writes nothing into Firestore from an archive that fails authentication', async () => {
    const copyDir = await mkdtemp(path.join(tmpdir(), 'fb-e2e-tamper-'));
    const bytes = await readFile(path.join(dir, archiveKeyOf(backupId)));
    bytes[bytes.length - 40]! ^= 0x01; // in the last segment: after every document
    const file = path.join(copyDir, archiveKeyOf(backupId));
    await writeFile(file, bytes);
    const target = testProject('cli-tamper');
    const run = await runCli(['restore', file, '--to-project', target], env);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/failed authentication/);
    expect((await documentsIn(target)).size).toBe(0);
  });

  it('fails clearly on a destination it cannot write, leaving nothing', async () => {
    const run = await runCli(['backup', '--project', source, '--to', '/sys/firebackup-test'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/permission denied/i);
  });

  it.runIf(canMountTinyDisk)(
    'fails clearly on a full disk, leaving nothing that looks like a backup',
    async () => {
      const disk = mountTinyDisk(8)!; // the archive of 602 documents is about 20 KB
      try {
        const run = await runCli(['backup', '--project', source, '--to', disk.dir], env);
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(/disk is full/);
        expect(await readdir(disk.dir)).toEqual([]);
      } finally {
        disk.unmount();
      }
    },
  );

  it('finishes a restore that was killed half-way when run again', async () => {
    const big = testProject('cli-kill-src');
    await seedDocuments(host, big, { count: 20000 });
    const bigDir = await mkdtemp(path.join(tmpdir(), 'fb-e2e-kill-'));
    const backup = await runCli(['backup', '--project', big, '--to', bigDir, '--json'], env);
    expect(backup.code, backup.stderr).toBe(0);
    const target = testProject('cli-kill-dst');
    const args = [
      '--import',
      'tsx',
      'test/helpers/cli-entry.ts',
      'restore',
      'latest',
      '--from',
      bigDir,
      '--to-project',
      target,
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Kill it once documents are being written (progress lines name the phase).
    let killedAt = '';
    await new Promise<void>((resolve) => {
      const timer = setInterval(async () => {
        if (await hasDocuments(target)) {
          child.kill('SIGKILL');
          killedAt = 'writing';
          clearInterval(timer);
        }
      }, 100);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
    expect(killedAt, 'the restore finished before it could be killed').not.toBe('');
    const partial = (await documentsIn(target)).size;
    expect(partial).toBeLessThan(20000);
    const rerun = await runCli(
      ['restore', 'latest', '--from', bigDir, '--to-project', target, '--json'],
      env,
    );
    expect(rerun.code, rerun.stderr).toBe(0);
    const report = rerun.json<{ created: number; skipped: number; failedCount: number }>();
    expect(report.failedCount).toBe(0);
    expect(report.created + report.skipped).toBe(20000);
    expect(report.skipped).toBeGreaterThanOrEqual(partial);
    expect((await documentsIn(target)).size).toBe(20000);
  }, 180_000);
});

describe.skipIf(!emulatorJar())('a backup when Firestore goes away mid-way', () => {
  it('fails with a clear UNAVAILABLE error and leaves nothing in the destination', async () => {
    const emulator = await startFirestoreEmulator(emulatorJar()!);
    const project = testProject('dying');
    await seedDocuments(emulator.host, project, { count: 15000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-dying-'));
    const destination = new LocalBackend(dir);
    let stopping: Promise<void> | undefined;
    const failure = await runBackup(
      {
        destination,
        keyring: new Keyring(MasterKey.generate()),
        source: { projectId: project, emulatorHost: emulator.host },
      },
      {
        onProgress: (p) => {
          if (p.phase === 'reading' && p.items > 0) stopping ??= emulator.stop();
        },
      },
    ).then(
      () => undefined,
      (error: unknown) => error,
    );
    await stopping;
    expect(stopping, 'the emulator was never stopped: the backup finished first').toBeDefined();
    expect(failure).toMatchObject({
      code: 'UNAVAILABLE',
      message: expect.stringContaining(emulator.host),
    });
    expect(await readdir(dir)).toEqual([]);
    expect(await listBackups(destination, new Keyring(MasterKey.generate()))).toEqual([]);
  }, 120_000);

  it('leaves nothing when cancelled', async () => {
    const host2 = inject('firestoreEmulatorHost');
    const project = testProject('cancel');
    await seedDocuments(host2, project, { count: 8000 });
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-cancel-'));
    const controller = new AbortController();
    const failure = await runBackup(
      {
        destination: new LocalBackend(dir),
        keyring: new Keyring(MasterKey.generate()),
        source: { projectId: project, emulatorHost: host2 },
      },
      { signal: controller.signal, onProgress: (p) => p.items > 0 && controller.abort() },
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'CANCELLED' });
    expect(existsSync(dir) ? await readdir(dir) : []).toEqual([]);
  }, 60_000);
});
