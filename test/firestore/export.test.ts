import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  openFirestore,
  type FirestoreConnection,
} from '../../src/engine/sources/firestore/connection.js';
import {
  chooseReadTime,
  countDocuments,
  exportDocuments,
  type ExportOptions,
} from '../../src/engine/sources/firestore/export.js';
import { readAllRaw, testProject, writeRaw } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');

/** Documents at many depths; most of their ancestors do not exist. */
const PATHS = [
  'a/1',
  'a/1/sub/1',
  'a/2/sub/1', // a/2 does not exist
  'a/3/x/4/y/5/z/6/w/7/v/8/u/9', // deep, none of the ancestors exist
  'a/1/other/1',
  'b/1',
  'b/1/sub/1',
  'b/2/sub/1/subsub/1',
  'bb/1', // a sibling whose id starts like "b": must not leak into "b"
  'b.c/1',
  'only/missing/deep/1', // root collection with no documents of its own
  'users/alice',
  'users/alice/orders/1',
  'users/alice/orders/2',
  'users/alice/orders/2/lines/1',
  'users/alice/orders2/1', // shares a prefix with "orders"
  'users/bob/orders/1',
];

async function paths(conn: FirestoreConnection, options: ExportOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for await (const doc of exportDocuments(conn, options)) out.push(doc.path);
  return out.sort();
}

const under = (...prefixes: string[]): string[] =>
  PATHS.filter((p) => prefixes.some((q) => p === q || p.startsWith(`${q}/`))).sort();

describe.skipIf(!host)('Firestore export against the emulator', () => {
  let conn: FirestoreConnection;
  beforeAll(async () => {
    conn = await openFirestore({ projectId: testProject('export'), emulatorHost: host });
    await writeRaw(
      conn,
      PATHS.map((path, i) => ({ path, fields: { i: { integerValue: String(i) } } })),
    );
  });
  afterAll(async () => conn?.close());

  // Tiny pages and several readers exercise cursors, jumps and the merge.
  const variants: [string, ExportOptions][] = [
    ['defaults', {}],
    ['pages of 2, one reader', { pageSize: 2, concurrency: 1 }],
    ['pages of 1, sharded, 4 readers', { pageSize: 1, concurrency: 4, shardsPerCollection: 5 }],
  ];

  it.each(variants)(
    'finds every document at any depth, missing ancestors included (%s)',
    async (_, opts) => {
      const found = await paths(conn, opts);
      expect(found).toEqual([...PATHS].sort());
      expect(new Set(found).size).toBe(found.length);
    },
  );

  it.each(variants)('selects and excludes collections and subtrees (%s)', async (_, opts) => {
    expect(await paths(conn, { ...opts, collections: ['b'] })).toEqual(under('b'));
    expect(await paths(conn, { ...opts, collections: ['users/alice/orders'] })).toEqual(
      under('users/alice/orders'),
    );
    expect(await paths(conn, { ...opts, collections: ['users/alice'] })).toEqual(
      under('users/alice'),
    );
    expect(await paths(conn, { ...opts, collections: ['a', 'b', 'a/1/sub'] })).toEqual(
      under('a', 'b'),
    );
    expect(await paths(conn, { ...opts, exclude: ['b', 'users/alice/orders', 'a/3'] })).toEqual(
      PATHS.filter((p) => !under('b', 'users/alice/orders', 'a/3').includes(p)).sort(),
    );
    expect(
      await paths(conn, { ...opts, collections: ['users'], exclude: ['users/alice/orders/2'] }),
    ).toEqual(under('users').filter((p) => !under('users/alice/orders/2').includes(p)));
    // An include inside an exclude selects nothing.
    expect(
      await paths(conn, { ...opts, collections: ['users/bob/orders'], exclude: ['users'] }),
    ).toEqual([]);
  });

  it('counts what it would export', async () => {
    expect(await countDocuments(conn)).toBe(PATHS.length);
    expect(
      await countDocuments(conn, { collections: ['users'], exclude: ['users/alice/orders'] }),
    ).toBe(under('users').length - under('users/alice/orders').length);
  });

  it('reads at one read time: later writes and deletes do not show', async () => {
    const readTime = await chooseReadTime(conn);
    const before = await readAllRaw(conn);
    await writeRaw(conn, [{ path: 'late/1', fields: {} }]);
    await conn.client.commit(
      { database: conn.databaseName, writes: [{ delete: `${conn.documentsRoot}/b/1` }] },
      conn.callOptions(),
    );
    const docs = [];
    for await (const doc of exportDocuments(conn, { readTime, pageSize: 3 })) docs.push(doc);
    expect(docs.map((d) => d.path).sort()).toEqual([...before.keys()].sort());
    expect(await countDocuments(conn, { readTime })).toBe(before.size);
    expect(readTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  });

  it('stops its readers when the consumer stops early, and honours an abort signal', async () => {
    let n = 0;
    for await (const _ of exportDocuments(conn, { pageSize: 1 })) if (++n === 3) break;
    expect(n).toBe(3);
    const controller = new AbortController();
    const run = (async () => {
      for await (const _ of exportDocuments(conn, { pageSize: 1, signal: controller.signal })) {
        controller.abort();
      }
    })();
    await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('rejects malformed selections clearly', async () => {
    await expect(paths(conn, { collections: ['a//b'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
