import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLinker, linkAudit } from '../../src/server/audit-linker.js';
import { appendAudit, recordAudit, verifyChain, type AuditInput } from '../../src/server/audit.js';
import type { Db } from '../../src/server/db/db.js';
import { BACKENDS, openTestDb, unavailable, type Backend } from './harness.js';

/**
 * The audit write after commit (issue #9's "+2 ms at p99"): a request appends its entry
 * with one plain INSERT in its own transaction, and the hash chain is linked afterwards
 * (sequence number, previous hash, hash) by a linker that runs in order under an advisory
 * lock. These tests hold the guarantees that design must keep.
 */
const input = (i: number): AuditInput => ({
  event: 'project.created',
  actor: { id: `usr_${i}`, email: null, ip: null },
  resource: { type: 'project', id: `prj_${i}` },
  metadata: { i },
});

function chainSuite(backend: Backend): void {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb(backend);
  });
  afterAll(() => db.close());
  const chain = () => `org_chain${randomInt(1e9)}`;
  const verify = (org: string) => db.withOrg(org, (tx) => verifyChain(tx, org));
  const unlinked = (org: string) =>
    db.system(async (tx) => {
      const [row] = await tx.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit_log WHERE chain = $1 AND seq IS NULL',
        [org],
      );
      return row!.n;
    });

  it('the request only inserts: the entry commits with the change, unlinked, and verify counts it as pending', async () => {
    const org = chain();
    await recordAudit(db, org, input(1));
    await recordAudit(db, org, input(2));
    expect(await unlinked(org)).toBe(2);
    expect(await verify(org)).toEqual({ ok: true, entries: 0, pending: 2 });
    expect(await linkAudit(db)).toBeGreaterThanOrEqual(2);
    expect(await unlinked(org)).toBe(0);
    expect(await verify(org)).toEqual({ ok: true, entries: 2 });
    // An entry rolled back with its change is never linked.
    await expect(
      db.withOrg(org, async (tx) => {
        await appendAudit(tx, org, input(3));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await linkAudit(db);
    expect(await verify(org)).toEqual({ ok: true, entries: 2 });
  });

  it('a crash between insert and link loses nothing: a linker started later picks the entries up', async () => {
    const org = chain();
    for (let i = 0; i < 5; i++) await recordAudit(db, org, input(i));
    // "Restart": a fresh linker, as the server starts one, links what it finds at start.
    const logs: string[] = [];
    const linker = new AuditLinker(db, (line) => logs.push(line), { intervalMs: 60_000 });
    await linker.start();
    try {
      expect(await unlinked(org)).toBe(0);
      expect(await verify(org)).toEqual({ ok: true, entries: 5 });
      // And periodically: an entry left by another instance is linked without a kick.
      await recordAudit(db, org, input(6));
      await linker.flush();
      expect(await verify(org)).toEqual({ ok: true, entries: 6 });
    } finally {
      await linker.stop();
    }
    expect(logs).toEqual([]);
  });

  it('links in insertion order with consecutive sequence numbers, the very first ones included', async () => {
    const org = chain();
    for (let i = 0; i < 4; i++) await recordAudit(db, org, input(i));
    await linkAudit(db);
    const rows = await db.system((tx) =>
      tx.query<{ seq: string; entry: string }>(
        'SELECT seq, entry FROM audit_log WHERE chain = $1 ORDER BY seq',
        [org],
      ),
    );
    expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3, 4]);
    expect(
      rows.map((r) => (JSON.parse(r.entry) as { metadata: { i: number } }).metadata.i),
    ).toEqual([0, 1, 2, 3]);
  });

  it('an edited, a deleted or a forged-link entry is still detected once linked', async () => {
    const org = chain();
    for (let i = 0; i < 3; i++) await recordAudit(db, org, input(i));
    await linkAudit(db);
    // Linking may only fill in the chain columns once: the entry itself stays as written.
    await expect(
      db.system((tx) =>
        tx.query(`UPDATE audit_log SET entry = 'x' WHERE chain = $1 AND seq = 1`, [org]),
      ),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.system((tx) =>
        tx.query(`UPDATE audit_log SET seq = 9 WHERE chain = $1 AND seq = 1`, [org]),
      ),
    ).rejects.toThrow(/append-only/);
    await db.system(async (tx) => {
      await tx.query('ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only');
      await tx.query(
        `UPDATE audit_log SET entry = replace(entry, 'prj_1', 'prj_9') WHERE chain = $1 AND seq = 2`,
        [org],
      );
      await tx.query('ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only');
    });
    expect(await verify(org)).toMatchObject({ ok: false, brokenAt: 2, reason: 'entry edited' });
  });

  it('an unlinked entry cannot be edited or removed either', async () => {
    const org = chain();
    await recordAudit(db, org, input(1));
    await expect(
      db.system((tx) => tx.query(`UPDATE audit_log SET entry = 'x' WHERE chain = $1`, [org])),
    ).rejects.toThrow(/append-only/);
    await expect(
      db.system((tx) => tx.query(`DELETE FROM audit_log WHERE chain = $1`, [org])),
    ).rejects.toThrow(/append-only/);
    await linkAudit(db);
  });

  it('linkers of several instances at once (serialised by the advisory lock) make one intact chain', async () => {
    const org = chain();
    const writes = Array.from({ length: 30 }, (_, i) => recordAudit(db, org, input(i)));
    const linkers = Array.from({ length: 3 }, () => linkAudit(db));
    await Promise.all([...writes, ...linkers]);
    await linkAudit(db);
    expect(await verify(org)).toEqual({ ok: true, entries: 30 });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => chainSuite(backend));
