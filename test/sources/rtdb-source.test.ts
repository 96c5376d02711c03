/**
 * The Realtime Database source against the firebase-server stand-in (test/setup/
 * rtdb-server.ts): an awkward tree round-trips exactly through the archive's records;
 * a large tree is read in pages (counted queries, bounded records); chosen paths,
 * create vs overwrite, a dry run; the whole path through the CLI (backup, list, inspect,
 * restore, restore --to-dir); and a backup whose RTDB server dies midway fails whole.
 *
 * The stand-in keeps one tree whatever the instance name, so each test works under its
 * own top-level key and compares that subtree.
 */
import { randomBytes } from 'node:crypto';
import type { WriteStream } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { chooseSources } from '../../src/engine/operations/source-probes.js';
import {
  openRtdb,
  type RtdbConnection,
  type RtdbInstance,
} from '../../src/engine/sources/rtdb/connection.js';
import { exportTree } from '../../src/engine/sources/rtdb/export.js';
import type { RtdbRecord, RtdbValue } from '../../src/engine/sources/rtdb/records.js';
import { restoreTree } from '../../src/engine/sources/rtdb/restore.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { RtdbJsonWriter } from '../../src/engine/operations/to-dir-rtdb.js';
import { startRtdbServer } from '../setup/rtdb-server.js';
import { runCli } from '../helpers/run-cli.js';
import { awkwardTree } from '../helpers/rtdb-trees.js';

const host = inject('rtdbHost');
const PROJECT = 'demo-rtdb';

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

async function collect(instance: RtdbInstance, paths: string[], recordBytes?: number) {
  const records: RtdbRecord[] = [];
  for await (const r of exportTree(instance, {
    paths,
    ...(recordBytes ? { recordBytes } : {}),
    pageSize: { initial: 4, max: 64 },
  })) {
    records.push(JSON.parse(r.json) as RtdbRecord); // as archived
  }
  return records;
}

describe.skipIf(!host)('Realtime Database source (firebase-server stand-in)', () => {
  let conn: RtdbConnection;
  let db: RtdbInstance;
  const key = MasterKey.generate();
  const keyring = new Keyring(key);
  const root = (): string => `/t${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    conn = await openRtdb({ projectId: PROJECT, emulatorHost: host });
    db = await conn.instance(`${PROJECT}-default-rtdb`);
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('round-trips an awkward tree exactly, cut into small records', async () => {
    const at = root();
    await db.set(at, awkwardTree());
    const before = await db.read(at);
    expect(before).toMatchObject({ prio: { '.priority': 5 }, numbers: { big: 9007199254740991 } });
    // {} and null are not stored by the database: nothing to keep.
    await db.update({ [`${at.slice(1)}/empty`]: {} });
    expect(await db.read(`${at}/empty`)).toBeNull();

    const records = await collect(db, [at], 400);
    expect(records[0]).toEqual({
      instance: `${PROJECT}-default-rtdb`,
      databaseUrl: `http://${host}/?ns=${PROJECT}-default-rtdb`,
    });
    expect(records.length).toBeGreaterThan(10);
    // The deep chain was cut into records of its own, well below the walk's root.
    const depths = records.map((r) => ('path' in r ? r.path.split('/').length : 0));
    expect(Math.max(...depths)).toBeGreaterThan(12);

    // restore --to-dir's writer nests the cut records back into one JSON tree.
    const text: string[] = [];
    const writer = new RtdbJsonWriter({
      open: async () => ({}) as WriteStream,
      write: async (_stream, chunk) => void text.push(chunk),
      close: async () => undefined,
      writeJson: async () => undefined,
      fileName: (name) => name,
    });
    for (const r of records) await writer.write(r);
    await writer.close();
    const fromFile = JSON.parse(text.join('')) as Record<string, RtdbValue>;
    expect(fromFile[at.slice(1)]).toEqual(before);

    await db.set(at, null);
    const report = await restoreTree(db, fromArray(records), { mode: 'create', paths: [at] });
    expect(report).toMatchObject({ created: 1, skipped: 0, failedCount: 0 });
    expect(await db.read(at)).toEqual(before);
  });

  it('reads a large tree in pages: many queries, no record over the limit, same tree back', async () => {
    const at = root();
    const children: Record<string, RtdbValue> = {};
    for (let i = 0; i < 1200; i++) {
      children[`item-${String(i).padStart(5, '0')}`] = { n: i, text: 'x'.repeat(200) };
    }
    await db.set(at, { items: children, small: 1 });
    const fresh = await conn.instance(`${PROJECT}-default-rtdb`);
    // Pages are queried at the walk's roots (the chosen paths; by default the top level).
    const records = await collect(fresh, [`${at}/items`, `${at}/small`], 16 * 1024);
    // 1,200 children of ~230 bytes in pages of at most 64: at least 19 queries.
    expect(fresh.queries).toBeGreaterThanOrEqual(1200 / 64);
    const sizes = records.map((r) => Buffer.byteLength(JSON.stringify(r)));
    // At most 16 KiB of children, plus the record's instance and path.
    expect(Math.max(...sizes)).toBeLessThan(16 * 1024 + 256);
    expect(records.length).toBeGreaterThan(15);

    const before = await db.read(at);
    await db.set(at, null);
    await restoreTree(db, fromArray(records), {
      mode: 'create',
      paths: [at],
      batch: { paths: 100, bytes: 64 * 1024 },
    });
    expect(await db.read(at)).toEqual(before);
  });

  it('restores chosen paths only, create skips what exists, overwrite replaces it; a dry run writes nothing', async () => {
    const at = root();
    await db.set(at, { a: { x: 1, y: { z: 2 } }, b: { w: 'kept' }, c: 'leaf' });
    const records = await collect(db, [at], 64);
    await db.set(at, { a: { other: true }, keep: 'me' });

    const dry = await restoreTree(db, fromArray(records), {
      mode: 'create',
      dryRun: true,
      paths: [`${at}/a`, `${at}/b`, `${at}/c`],
    });
    expect(dry.planned).toEqual({ create: 2, overwrite: 0, skip: 1 });
    expect(await db.read(at)).toEqual({ a: { other: true }, keep: 'me' });

    const created = await restoreTree(db, fromArray(records), {
      mode: 'create',
      paths: [`${at}/a`, `${at}/b/w`],
    });
    expect(created).toMatchObject({ created: 1, skipped: 1, skippedPaths: [`${at}/a`] });
    expect(await db.read(at)).toEqual({ a: { other: true }, b: { w: 'kept' }, keep: 'me' });

    const overwritten = await restoreTree(db, fromArray(records), {
      mode: 'overwrite',
      paths: [`${at}/a`, `${at}/c`],
    });
    expect(overwritten).toMatchObject({ created: 1, overwritten: 1 });
    expect(await db.read(at)).toEqual({
      a: { x: 1, y: { z: 2 } },
      b: { w: 'kept' },
      c: 'leaf',
      keep: 'me',
    });
  });

  it('backs up, lists, inspects and restores through the CLI, and writes the tree as JSON', async () => {
    const at = root();
    await db.set(at, awkwardTree());
    const before = await db.read(at);
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-rtdb-'));
    const env = { ENCRYPTION_KEY: key.revealHex() };
    const run = await runCli(
      [
        ...['backup', '--project', PROJECT, '--to', dir, '--json'],
        ...['--sources', 'rtdb', '--rtdb-emulator', host, '--rtdb-paths', at],
      ],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = run.json<{ id: string; sources: string[]; counts: Record<string, number> }>();
    expect(result.sources).toEqual(['rtdb']);
    expect(result.counts['rtdb.records']).toBeGreaterThan(1);
    expect((await runCli(['list', '--from', dir], env)).stdout).toMatch(/RTDB records/);
    const inspect = await runCli(['inspect', result.id, '--from', dir], env);
    expect(inspect.stdout).toMatch(/Realtime Database: \d+ values/);
    expect(inspect.stdout).toMatch(new RegExp(`${PROJECT}-default-rtdb: \\d+ values`));

    // Offline: the tree as JSON in the database's export form, priorities included.
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rtdb-dir-')), 'restored');
    const toDir = await runCli(['restore', result.id, '--from', dir, '--to-dir', out], env);
    expect(toDir.code, toDir.stderr).toBe(0);
    expect((await readdir(path.join(out, 'rtdb'))).sort()).toEqual([
      `${PROJECT}-default-rtdb.json`,
      `${PROJECT}-default-rtdb.meta.json`,
    ]);
    const tree = JSON.parse(
      await readFile(path.join(out, 'rtdb', `${PROJECT}-default-rtdb.json`), 'utf8'),
    ) as Record<string, RtdbValue>;
    expect(tree[at.slice(1)]).toEqual(before);
    const summary = JSON.parse(await readFile(path.join(out, 'backup.json'), 'utf8')) as {
      header: { sources: string[]; rtdb: unknown };
    };
    expect(summary.header).toMatchObject({
      sources: ['rtdb'],
      rtdb: { instances: [`${PROJECT}-default-rtdb`], paths: [at] },
    });

    // Back into the project: create skips the existing path, overwrite replaces it.
    await db.set(`${at}/bools`, 'changed');
    const restoreArgs = [
      ...['restore', result.id, '--from', dir, '--to-project', PROJECT, '--json'],
      ...['--sources', 'rtdb', '--rtdb-emulator', host],
    ];
    const skip = await runCli([...restoreArgs, '--rtdb-paths', `${at}/bools`], env);
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.json()).toMatchObject({ rtdb: { skipped: 1, skippedPaths: [`${at}/bools`] } });
    const over = await runCli(
      [...restoreArgs, '--rtdb-paths', `${at}/bools`, '--mode', 'overwrite'],
      env,
    );
    expect(over.code, over.stderr).toBe(0);
    expect(await db.read(at)).toEqual(before);
  });

  it('is chosen by default when its emulator is given, and skipped with the reason when not', async () => {
    const given = await chooseSources({
      projectId: PROJECT,
      emulator: true,
      rtdb: { emulatorHost: host },
    });
    expect(given.sources).toEqual(['firestore', 'rtdb']);
    const without = await chooseSources({ projectId: PROJECT, emulator: true });
    expect(without.sources).toEqual(['firestore']);
    expect(without.skipped).toContainEqual({
      source: 'rtdb',
      reason: expect.stringMatching(/--rtdb-emulator or FIREBASE_DATABASE_EMULATOR_HOST/),
    });
  });

  it('fails whole, leaving nothing, when the database goes away midway', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-rtdb-fail-'));
    // The server starts with the tree (writing 4 MB through it takes seconds).
    const big: Record<string, RtdbValue> = {};
    for (let i = 0; i < 8000; i++) big[`k${String(i).padStart(5, '0')}`] = 'v'.repeat(500);
    const seed = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rtdb-seed-')), 'tree.json');
    await writeFile(seed, JSON.stringify(big));
    const server = await startRtdbServer(seed);
    try {
      let killed = false;
      const backup = runBackup(
        {
          destination: new LocalBackend(dir),
          keyring,
          source: { projectId: PROJECT },
          sources: ['rtdb'],
          rtdb: { emulatorHost: server.endpoint, requestTimeoutMs: 3000 },
        },
        {
          onProgress: (p) => {
            // Stop the server once some of the tree is in the archive.
            if (!killed && p.phase.includes('Realtime') && p.items > 0) {
              killed = true;
              void server.stop();
            }
          },
        },
      );
      await expect(backup).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      expect(killed).toBe(true);
    } finally {
      await server.stop();
    }
    expect((await readdir(dir)).filter((f) => !f.startsWith('.'))).toEqual([]);
  });
});
