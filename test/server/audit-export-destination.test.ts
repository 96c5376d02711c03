import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { AuditExportJob, exportAudit } from '../../src/server/audit-exporter.js';
import { linkAudit } from '../../src/server/audit-linker.js';
import { pruneAudit, recordAudit, verifyChain } from '../../src/server/audit.js';
import { loadConfig } from '../../src/server/config.js';
import type { Db } from '../../src/server/db/db.js';
import { openDestination, type StorageBackend } from '../../src/engine/storage/index.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { S3RVER_CREDENTIALS, TEST_BUCKET } from '../setup/storage-servers.js';
import { openTestDb, SECRET } from './harness.js';

/**
 * AUDIT_LOG_EXPORT: linked audit entries go to a FireBackup destination in batches,
 * exactly once across a crash (durable cursor, deterministic batch names, cursor moved
 * only after the upload is confirmed), through the engine's storage layer. Against s3rver
 * and a local folder, on PGlite (the exporter's SQL is the same on PostgreSQL).
 */
const s3Endpoint = inject('s3Endpoint');

interface Put {
  key: string;
  sha256: string;
}

/** The real destination, with each put's key and content digest recorded. */
function recording(inner: StorageBackend, puts: Put[]): StorageBackend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'put')
        return async (key: string, body: Uint8Array, options?: object) => {
          puts.push({ key, sha256: createHash('sha256').update(body).digest('hex') });
          return target.put(key, body, options);
        };
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
}

/** What a reader of the destination sees: every batch, in name order, concatenated. */
async function readAll(
  backend: StorageBackend,
): Promise<Array<{ organization: string | null; seq: number; event: string }>> {
  const keys: string[] = [];
  for await (const info of backend.list('')) keys.push(info.key);
  keys.sort();
  const entries = [];
  for (const key of keys) {
    const chunks: Buffer[] = [];
    for await (const chunk of await backend.get(key)) chunks.push(chunk as Buffer);
    for (const line of Buffer.concat(chunks).toString('utf8').split('\n'))
      if (line !== '')
        entries.push(
          JSON.parse(line) as { organization: string | null; seq: number; event: string },
        );
  }
  return entries;
}

const destinations: Array<
  [string, () => Promise<{ url: string; options: Record<string, unknown>; done: () => void }>]
> = [
  [
    'a folder',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'fb-audit-export-'));
      return { url: dir, options: {}, done: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    's3:// (s3rver)',
    async () => ({
      url: `s3://${TEST_BUCKET}/audit-${randomBytes(4).toString('hex')}`,
      options: { endpoint: s3Endpoint, ...S3RVER_CREDENTIALS, forcePathStyle: true },
      done: () => undefined,
    }),
  ],
];

describe.each(destinations)('audit export to %s', (name, make) => {
  const skip = name.startsWith('s3') && s3Endpoint === '';
  let db: Db;
  let target: Awaited<ReturnType<typeof make>>;
  let backend: StorageBackend;
  beforeAll(async () => {
    if (skip) return;
    db = await openTestDb('pglite');
    target = await make();
    backend = await openDestination(target.url, target.options);
  });
  afterAll(async () => {
    if (skip) return;
    await db.close();
    target.done();
  });
  const record = async (org: string, n: number) => {
    for (let i = 0; i < n; i++)
      await recordAudit(db, org, {
        event: 'project.created',
        actor: { id: 'usr_a', email: 'a@acme.test', ip: '127.0.0.1' },
        resource: { type: 'project', id: `prj_${i}` },
        metadata: { i },
      });
  };
  const exported = (org: string) =>
    db.system(async (tx) => {
      const [row] = await tx.query<{ seq: string; pending_to: string | null }>(
        'SELECT seq, pending_to FROM audit_export_cursors WHERE chain = $1',
        [org],
      );
      return row === undefined
        ? null
        : {
            seq: Number(row.seq),
            pendingTo: row.pending_to === null ? null : Number(row.pending_to),
          };
    });

  it.skipIf(skip)(
    'exports each linked entry once, in order, in batches named by sequence range; unlinked ones wait',
    async () => {
      const org = `org_exp${randomInt(1e9)}`;
      await record(org, 7);
      await linkAudit(db);
      await record(org, 2); // committed, not linked yet: not exported
      const puts: Put[] = [];
      const first = await exportAudit(db, recording(backend, puts), { batchSize: 3 });
      expect(first.entries).toBeGreaterThanOrEqual(7);
      const mine = puts.filter((p) => p.key.startsWith(`${org}/`)).map((p) => p.key);
      expect(mine).toEqual([
        `${org}/000000000001-000000000003.ndjson`,
        `${org}/000000000004-000000000006.ndjson`,
        `${org}/000000000007-000000000007.ndjson`,
      ]);
      expect(await exported(org)).toEqual({ seq: 7, pendingTo: null });
      // Nothing new: nothing sent. Then the two late ones, once linked.
      puts.length = 0;
      await exportAudit(db, recording(backend, puts), { batchSize: 3 });
      expect(puts.filter((p) => p.key.startsWith(`${org}/`))).toEqual([]);
      await linkAudit(db);
      await exportAudit(db, recording(backend, puts), { batchSize: 3 });
      expect(puts.filter((p) => p.key.startsWith(`${org}/`)).map((p) => p.key)).toEqual([
        `${org}/000000000008-000000000009.ndjson`,
      ]);
      const seen = (await readAll(backend)).filter((e) => e.organization === org);
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(seen[0]).toMatchObject({ event: 'project.created', organization: org });
    },
  );

  it.skipIf(skip)(
    'a crash after the upload, before the cursor commit: the batch is re-sent with the same name and bytes, and read once',
    async () => {
      const org = `org_crash${randomInt(1e9)}`;
      await record(org, 4);
      await linkAudit(db);
      const puts: Put[] = [];
      await expect(
        exportAudit(db, recording(backend, puts), {
          batchSize: 10,
          afterUpload: () => {
            throw new Error('crash: the process died here');
          },
        }),
      ).rejects.toThrow(/crash/);
      const crashed = puts.filter((p) => p.key.startsWith(`${org}/`));
      expect(crashed).toHaveLength(1);
      // The cursor did not move; the batch in flight is remembered.
      expect(await exported(org)).toEqual({ seq: 0, pendingTo: 4 });
      // More entries arrive before the restart: the re-sent batch is still exactly 1-4.
      await record(org, 3);
      await linkAudit(db);
      const after: Put[] = [];
      await exportAudit(db, recording(backend, after), { batchSize: 10 });
      const resent = after.filter((p) => p.key.startsWith(`${org}/`));
      expect(resent[0]).toEqual(crashed[0]);
      expect(resent.map((p) => p.key)).toEqual([
        `${org}/000000000001-000000000004.ndjson`,
        `${org}/000000000005-000000000007.ndjson`,
      ]);
      const seen = (await readAll(backend)).filter((e) => e.organization === org);
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(await exported(org)).toEqual({ seq: 7, pendingTo: null });
    },
  );

  it.skipIf(skip)(
    'a dead destination: a clear log line, nothing lost, exported when it is back',
    async () => {
      const org = `org_dead${randomInt(1e9)}`;
      await record(org, 3);
      await linkAudit(db);
      const port = await freePort();
      const deadUrl = name.startsWith('s3')
        ? `s3://${TEST_BUCKET}/dead`
        : path.join(mkdtempSync(path.join(tmpdir(), 'fb-dead-')), 'file-not-folder');
      if (!name.startsWith('s3')) {
        // A "folder" that is a file: every write fails.
        const { writeFileSync } = await import('node:fs');
        writeFileSync(deadUrl, 'not a folder');
      }
      const dead = await openDestination(
        deadUrl,
        name.startsWith('s3')
          ? { endpoint: `http://127.0.0.1:${port}`, ...S3RVER_CREDENTIALS, forcePathStyle: true }
          : {},
      );
      const lines: string[] = [];
      const job = new AuditExportJob(
        db,
        async () => dead,
        (line) => lines.push(line),
        {
          intervalMs: 60_000,
          batchSize: 100,
        },
      );
      expect(await job.runOnce()).toBe(false);
      expect(lines.join('\n')).toMatch(/Audit export to .* failed \(will retry in 60 s\)/);
      expect((await exported(org))?.seq ?? 0).toBe(0);
      // Back: the same job (or the next instance) ships everything, once.
      const good = new AuditExportJob(
        db,
        async () => backend,
        (line) => lines.push(line),
        {
          intervalMs: 60_000,
          batchSize: 100,
        },
      );
      expect(await good.runOnce()).toBe(true);
      const seen = (await readAll(backend)).filter((e) => e.organization === org);
      expect(seen.map((e) => e.seq)).toEqual([1, 2, 3]);
    },
  );
});

describe('retention with the export on', () => {
  it('never removes an entry the export has not delivered', async () => {
    const db = await openTestDb('pglite');
    const dir = mkdtempSync(path.join(tmpdir(), 'fb-audit-keep-'));
    try {
      const org = `org_keep${randomInt(1e9)}`;
      const add = async (n: number) => {
        for (let i = 0; i < n; i++)
          await recordAudit(db, org, {
            event: 'project.created',
            actor: { id: 'usr_a', email: null, ip: null },
            resource: { type: 'project', id: `prj_${i}` },
            metadata: {},
          });
        await linkAudit(db);
      };
      await add(3);
      await exportAudit(db, await openDestination(dir));
      await add(2);
      // Everything is past its retention a year and a day later; only the delivered go.
      const later = new Date(Date.now() + 366 * 86_400_000);
      expect(await pruneAudit(db, 365, later, { keepUnexported: true })).toBe(3);
      expect(await db.withOrg(org, (tx) => verifyChain(tx, org))).toEqual({
        ok: true,
        entries: 2,
        prunedThrough: 3,
      });
      await exportAudit(db, await openDestination(dir));
      expect(await pruneAudit(db, 365, later, { keepUnexported: true })).toBe(2);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AUDIT_LOG_EXPORT configuration', () => {
  it('needs a destination when on, and says which variable to set', () => {
    expect(() => loadConfig({ JWT_SECRET: SECRET, AUDIT_LOG_EXPORT: 'true' })).toThrow(
      /AUDIT_LOG_EXPORT_DESTINATION/,
    );
    const config = loadConfig({
      JWT_SECRET: SECRET,
      AUDIT_LOG_EXPORT: 'true',
      AUDIT_LOG_EXPORT_DESTINATION: 's3://audit-logs/firebackup/',
    });
    expect(config.AUDIT_LOG_EXPORT).toBe(true);
    expect(config.AUDIT_LOG_EXPORT_DESTINATION).toBe('s3://audit-logs/firebackup/');
    expect(loadConfig({ JWT_SECRET: SECRET }).AUDIT_LOG_EXPORT).toBe(false);
  });
});
