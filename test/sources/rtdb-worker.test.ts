/**
 * The Realtime Database reader in its worker thread (src/engine/sources/rtdb/
 * worker-export.ts, ADR 0014), against the firebase-server stand-in: the records that
 * cross from the worker are exactly those of the in-process export and restore the tree
 * exactly; a worker that runs out of its heap, or a backup cancelled while the worker
 * reads, fails the backup whole with its code and leaves nothing in the destination.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { runBackup } from '../../src/engine/operations/backup.js';
import { openRtdb, type RtdbConnection } from '../../src/engine/sources/rtdb/connection.js';
import { exportTree } from '../../src/engine/sources/rtdb/export.js';
import type { RtdbRecord, RtdbValue } from '../../src/engine/sources/rtdb/records.js';
import { restoreTree } from '../../src/engine/sources/rtdb/restore.js';
import { exportTreeInWorker } from '../../src/engine/sources/rtdb/worker-export.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { startRtdbServer } from '../setup/rtdb-server.js';
import { awkwardTree } from '../helpers/rtdb-trees.js';

const host = inject('rtdbHost');
const PROJECT = 'demo-rtdb-worker';
const INSTANCE = `${PROJECT}-default-rtdb`;

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const files = async (dir: string): Promise<string[]> =>
  (await readdir(dir)).filter((f) => !f.startsWith('.'));

describe.skipIf(!host)('the Realtime Database reader in a worker thread', () => {
  let conn: RtdbConnection;
  const keyring = new Keyring(MasterKey.generate());

  beforeAll(async () => {
    conn = await openRtdb({ projectId: PROJECT, emulatorHost: host });
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('sends exactly the records of the in-process export, which restore the tree exactly', async () => {
    const db = await conn.instance(INSTANCE);
    const at = `/t${randomBytes(4).toString('hex')}`;
    const items: Record<string, RtdbValue> = {};
    for (let i = 0; i < 300; i++)
      items[`i${String(i).padStart(4, '0')}`] = { n: i, s: 'x'.repeat(90) };
    await db.set(at, { ...awkwardTree(), items });
    const before = await db.read(at);
    const options = { paths: [at], recordBytes: 2048, pageSize: { initial: 2, max: 32 } };

    const inProcess: string[] = [];
    for await (const r of exportTree(db, options)) inProcess.push(r.json);
    const fromWorker: string[] = [];
    let queries = 0;
    for await (const r of exportTreeInWorker({ projectId: PROJECT, emulatorHost: host }, INSTANCE, {
      ...options,
      onDone: (n) => (queries = n),
    })) {
      fromWorker.push(r.bytes.toString('utf8'));
    }
    expect(fromWorker.length).toBeGreaterThan(10);
    expect(fromWorker).toEqual(inProcess);
    // Pages at the walk's root (its 13 children, from 2 per query): more than one query.
    expect(queries).toBeGreaterThan(2);

    await db.set(at, null);
    const records = fromWorker.map((json) => JSON.parse(json) as RtdbRecord);
    await restoreTree(db, fromArray(records), { mode: 'create', paths: [at] });
    expect(await db.read(at)).toEqual(before);
  });

  describe('failing inside the worker', () => {
    let server: Awaited<ReturnType<typeof startRtdbServer>>;

    beforeAll(async () => {
      // One top-level node of ~8 MB, loaded at start-up (writing it in takes a minute).
      const big: Record<string, string> = {};
      for (let i = 0; i < 8000; i++) big[`k${String(i).padStart(5, '0')}`] = 'v'.repeat(1000);
      const small: Record<string, number> = {};
      for (let i = 0; i < 2000; i++) small[`s${String(i).padStart(5, '0')}`] = i;
      const seed = path.join(await mkdtemp(path.join(tmpdir(), 'fb-rtdbw-seed-')), 'tree.json');
      await writeFile(seed, JSON.stringify({ big, small }));
      server = await startRtdbServer(seed);
    }, 120_000);
    afterAll(async () => {
      await server?.stop();
    });

    const backup = (dir: string, extra: { readerHeapMb?: number }, signal?: AbortSignal) =>
      runBackup(
        {
          destination: new LocalBackend(dir),
          keyring,
          source: { projectId: PROJECT },
          sources: ['rtdb'],
          rtdb: { emulatorHost: server.endpoint, ...extra },
        },
        signal ? { signal } : {},
      );

    it('fails the backup whole, with a clear error, when the reader runs out of its heap', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-rtdbw-oom-'));
      const started = Date.now();
      const failed = backup(dir, { readerHeapMb: 16 });
      await expect(failed).rejects.toMatchObject({
        code: 'RESOURCE_EXHAUSTED',
        message: expect.stringMatching(/16 MB of memory.*--rtdb-paths.*--rtdb-memory/),
      });
      expect(Date.now() - started).toBeLessThan(45_000); // an error, not a hang
      expect(await files(dir)).toEqual([]);
      // The same tree backs up with the default heap.
      const ok = await mkdtemp(path.join(tmpdir(), 'fb-rtdbw-ok-'));
      const result = await backup(ok, {});
      expect(result.counts['rtdb.records']).toBeGreaterThan(8);
    });

    it('stops the worker when the backup is cancelled, leaving nothing', async () => {
      const dir = await mkdtemp(path.join(tmpdir(), 'fb-rtdbw-cancel-'));
      const abort = new AbortController();
      let cancelledAt = 0;
      const run = runBackup(
        {
          destination: new LocalBackend(dir),
          keyring,
          source: { projectId: PROJECT },
          sources: ['rtdb'],
          rtdb: { emulatorHost: server.endpoint },
        },
        {
          signal: abort.signal,
          onProgress: (p) => {
            if (!cancelledAt && p.phase.includes('Realtime') && p.items > 0) {
              cancelledAt = Date.now();
              abort.abort();
            }
          },
        },
      );
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(cancelledAt).toBeGreaterThan(0);
      expect(Date.now() - cancelledAt).toBeLessThan(10_000);
      expect(await files(dir)).toEqual([]);
    });
  });
});
