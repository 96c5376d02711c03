import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  openFirestore,
  type FirestoreConnection,
} from '../../src/engine/sources/firestore/connection.js';
import { exportDocuments } from '../../src/engine/sources/firestore/export.js';
import { restoreDocuments } from '../../src/engine/sources/firestore/restore.js';
import type { FirestoreDocumentRecord } from '../../src/shared/firestore.js';
import { bareRead, seedWith, testProject } from '../helpers/firestore-seed.js';

const host = inject('firestoreEmulatorHost');
const COUNT = Number(process.env.FIREBACKUP_BENCH_DOCS ?? 10_000);

/**
 * Export and restore of 10,000 documents against the emulator, checked for completeness,
 * with throughput printed beside the simplest paginated read on the same data. The speed
 * itself is not asserted here: a timed test fails on a busy machine for no fault of the
 * code (it did in CI). `npm run bench -- firestore` measures the ratio, in one run.
 */
describe.skipIf(!host)('Firestore throughput', () => {
  let source: FirestoreConnection;
  let target: FirestoreConnection;
  beforeAll(async () => {
    source = await openFirestore({ projectId: testProject('speed-src'), emulatorHost: host });
    target = await openFirestore({ projectId: testProject('speed-dst'), emulatorHost: host });
    await seedWith(source, { count: COUNT, withSubcollections: true, docBytes: 1000 });
  }, 300_000);
  afterAll(async () => {
    await source?.close();
    await target?.close();
  });

  it('exports and restores every document, printing throughput beside a bare paginated read', async () => {
    const perSecond = (n: number, ms: number): number => Math.round(n / (ms / 1000));
    const bare = await bareRead(source);
    let started = performance.now();
    const docs: FirestoreDocumentRecord[] = [];
    for await (const doc of exportDocuments(source)) docs.push(doc);
    const exportMs = performance.now() - started;
    // Second bare read: the baseline is the better of two, so a lucky first run cannot
    // flatter the export.
    const bare2 = await bareRead(source);
    const bareMs = Math.min(bare.ms, bare2.ms);

    started = performance.now();
    const report = await restoreDocuments(
      target,
      (async function* () {
        yield* docs;
      })(),
      { mode: 'create' },
    );
    const restoreMs = performance.now() - started;

    console.info(
      `[throughput] ${COUNT} docs of ~1 KB: bare read ${perSecond(COUNT, bareMs)} docs/s, ` +
        `export ${perSecond(COUNT, exportMs)} docs/s, restore ${perSecond(COUNT, restoreMs)} docs/s`,
    );
    expect(bare.documents).toBe(COUNT);
    expect(docs).toHaveLength(COUNT);
    expect(report).toMatchObject({ created: COUNT, failedCount: 0 });
    expect(new Set(docs.map((d) => d.path)).size).toBe(COUNT);
  });
});
