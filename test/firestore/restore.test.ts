import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  openFirestore,
  type FirestoreConnection,
} from '../../src/engine/sources/firestore/connection.js';
import { exportDocuments } from '../../src/engine/sources/firestore/export.js';
import { restoreDocuments } from '../../src/engine/sources/firestore/restore.js';
import type { FirestoreDocumentRecord, FirestoreValue } from '../../src/shared/firestore.js';
import { readAllRaw, testProject } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');
const T = '2024-01-01T00:00:00.000000000Z';

function doc(path: string, fields: Record<string, FirestoreValue>): FirestoreDocumentRecord {
  return { path, createTime: T, updateTime: T, fields };
}

async function* from<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

async function stored(conn: FirestoreConnection): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for await (const d of exportDocuments(conn)) out[d.path] = d.fields;
  return out;
}

describe.skipIf(!host)('Firestore restore against the emulator', () => {
  const open: FirestoreConnection[] = [];
  const fresh = async (name: string): Promise<FirestoreConnection> => {
    const conn = await openFirestore({ projectId: testProject(name), emulatorHost: host });
    open.push(conn);
    return conn;
  };
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close()));
  });

  const existing = [
    doc('u/1', { a: { integerValue: '1' }, b: { stringValue: 'old' } }),
    doc('u/2', { a: { integerValue: '2' } }),
  ];
  const incoming = [
    doc('u/1', { b: { stringValue: 'new' }, 'c.d': { booleanValue: true } }),
    doc('u/3', { a: { integerValue: '3' } }),
  ];
  let target: FirestoreConnection;
  beforeAll(async () => {
    target = await fresh('restore-modes');
  });

  it('create: writes only what is missing and reports what it skipped', async () => {
    await restoreDocuments(target, from(existing), { mode: 'overwrite' });
    const report = await restoreDocuments(target, from(incoming), { mode: 'create' });
    expect(report).toMatchObject({ created: 1, skipped: 1, failedCount: 0, failed: [] });
    expect(await stored(target)).toEqual({
      'u/1': existing[0]?.fields,
      'u/2': existing[1]?.fields,
      'u/3': incoming[1]?.fields,
    });
  });

  it('overwrite: replaces whole documents', async () => {
    const t = await fresh('restore-overwrite');
    await restoreDocuments(t, from(existing), { mode: 'create' });
    const report = await restoreDocuments(t, from(incoming), { mode: 'overwrite' });
    // u/3 did not exist: created, not "overwritten" (the plan says the same).
    expect(report).toMatchObject({ overwritten: 1, created: 1, skipped: 0, failedCount: 0 });
    expect(await stored(t)).toEqual({
      'u/1': incoming[0]?.fields,
      'u/2': existing[1]?.fields,
      'u/3': incoming[1]?.fields,
    });
  });

  it('merge: sets the fields present, keeps the others (odd names escaped)', async () => {
    const t = await fresh('restore-merge');
    await restoreDocuments(t, from(existing), { mode: 'create' });
    const report = await restoreDocuments(t, from(incoming), { mode: 'merge' });
    expect(report).toMatchObject({ merged: 1, created: 1, failedCount: 0 });
    expect(await stored(t)).toEqual({
      'u/1': { a: { integerValue: '1' }, b: { stringValue: 'new' }, 'c.d': { booleanValue: true } },
      'u/2': existing[1]?.fields,
      'u/3': incoming[1]?.fields,
    });
  });

  it('dry run: plans from what exists and writes nothing', async () => {
    const t = await fresh('restore-dry');
    await restoreDocuments(t, from(existing), { mode: 'create' });
    const before = await readAllRaw(t);
    const create = await restoreDocuments(t, from(incoming), { mode: 'create', dryRun: true });
    expect(create).toMatchObject({
      created: 0,
      skipped: 0,
      planned: { create: 1, skip: 1, overwrite: 0 },
    });
    const overwrite = await restoreDocuments(t, from(incoming), {
      mode: 'overwrite',
      dryRun: true,
    });
    expect(overwrite.planned).toEqual({
      create: 1,
      overwrite: 1,
      merge: 0,
      skip: 0,
      delete: 0,
      deletePaths: [],
    });
    const merge = await restoreDocuments(t, from(incoming), { mode: 'merge', dryRun: true });
    expect(merge.planned).toMatchObject({ create: 1, merge: 1, overwrite: 0 });
    const after = await readAllRaw(t);
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [path, d] of after) {
      expect(d.updateTime).toEqual(before.get(path)?.updateTime);
    }
  });

  it('rewrites references to the source database, leaves others alone', async () => {
    const t = await fresh('restore-refs');
    const source = 'projects/demo-elsewhere/databases/(default)/documents';
    const refs = doc('r/1', {
      mine: { referenceValue: `${source}/u/1` },
      nested: {
        mapValue: {
          fields: { list: { arrayValue: { values: [{ referenceValue: `${source}/u/2/x/y` }] } } },
        },
      },
      foreign: { referenceValue: 'projects/other/databases/(default)/documents/u/1' },
      lookalike: { referenceValue: 'projects/demo-elsewhere/databases/named/documents/u/1' },
    });
    await restoreDocuments(t, from([refs]), { mode: 'create', sourceDocumentsRoot: () => source });
    expect(await stored(t)).toEqual({
      'r/1': {
        mine: { referenceValue: `${t.documentsRoot}/u/1` },
        nested: {
          mapValue: {
            fields: {
              list: { arrayValue: { values: [{ referenceValue: `${t.documentsRoot}/u/2/x/y` }] } },
            },
          },
        },
        foreign: { referenceValue: 'projects/other/databases/(default)/documents/u/1' },
        lookalike: { referenceValue: 'projects/demo-elsewhere/databases/named/documents/u/1' },
      },
    });
  });

  it('an interrupted restore completes when run again in create mode', async () => {
    const t = await fresh('restore-resume');
    const docs = Array.from({ length: 1200 }, (_, i) =>
      doc(`c/${String(i).padStart(5, '0')}`, { i: { integerValue: String(i) } }),
    );
    const controller = new AbortController();
    let written = 0;
    const first = restoreDocuments(t, from(docs), {
      mode: 'create',
      batchSize: 100,
      concurrency: 2,
      signal: controller.signal,
      onProgress: (n) => {
        written += n;
        if (written >= 300) controller.abort();
      },
    });
    const stopped = await first.catch((e: unknown) => e);
    expect(stopped).toMatchObject({ code: 'CANCELLED' });
    const partial = (await readAllRaw(t)).size;
    // The error says exactly what was written before it stopped.
    expect(stopped).toMatchObject({ report: { created: partial, failedCount: 0 } });
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(docs.length);
    const report = await restoreDocuments(t, from(docs), { mode: 'create' });
    expect(report).toMatchObject({
      created: docs.length - partial,
      skipped: partial,
      failedCount: 0,
    });
    expect((await readAllRaw(t)).size).toBe(docs.length);
  });

  it('reports documents Firestore rejects without losing the rest of their batch', async () => {
    const t = await fresh('restore-bad');
    const docs = [
      doc('ok/1', {}),
      doc('ok/__reserved__', {}), // ids like __x__ are reserved: the write is rejected
      doc('ok/2', {}),
    ];
    const report = await restoreDocuments(t, from(docs), { mode: 'create' });
    expect(report.created).toBe(2);
    expect(report.failedCount).toBe(1);
    expect(report.failed[0]).toMatchObject({ path: 'ok/__reserved__', code: 'INVALID_ARGUMENT' });
    expect(Object.keys(await stored(t)).sort()).toEqual(['ok/1', 'ok/2']);
  });

  it('rejects a batch size above the API limit', async () => {
    await expect(
      restoreDocuments(target, from([]), { mode: 'create', batchSize: 501 }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });
});
