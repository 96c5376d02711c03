import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackupSelection } from '../../src/shared/backups.js';
import type { RetentionPolicy } from '../../src/shared/schedules.js';
import type { CatalogBackup } from '../../src/engine/catalog/backups.js';
import {
  scopedCandidates,
  selectionOf,
  type RetentionScope,
} from '../../src/engine/scheduler/retention-scope.js';
import { prune } from '../../src/engine/scheduler/prune.js';
import {
  applyRetention,
  isoWeek,
  type RetentionCandidate,
} from '../../src/engine/scheduler/retention.js';

const at = (iso: string, id = iso, good = true): RetentionCandidate => ({
  id,
  createdAt: new Date(iso),
  good,
});
const kept = (backups: RetentionCandidate[], policy: RetentionPolicy, tz?: string): string[] =>
  applyRetention(backups, policy, tz)
    .keep.map((k) => k.id)
    .sort();

describe('applyRetention', () => {
  it('keeps everything when the policy has no rules', () => {
    const backups = [at('2024-01-01T00:00:00Z'), at('2024-01-02T00:00:00Z')];
    expect(applyRetention(backups, {}).remove).toEqual([]);
  });

  it('keeps the last N regardless of input order', () => {
    const backups = [
      at('2024-01-03T00:00:00Z', 'c'),
      at('2024-01-01T00:00:00Z', 'a'),
      at('2024-01-02T00:00:00Z', 'b'),
    ];
    expect(kept(backups, { keepLast: 2 })).toEqual(['b', 'c']);
  });

  it('keeps the newest backup of each of the N most recent days that have one', () => {
    const backups = [
      at('2024-01-01T08:00:00Z', 'd1-early'),
      at('2024-01-01T20:00:00Z', 'd1-late'),
      // 2024-01-02 has no backup: the gap must not use up the count.
      at('2024-01-03T09:00:00Z', 'd3'),
      at('2024-01-04T09:00:00Z', 'd4'),
    ];
    expect(kept(backups, { keepDaily: 3 })).toEqual(['d1-late', 'd3', 'd4']);
  });

  it('cuts days in the policy time zone, not UTC', () => {
    // 23:30 UTC on Jan 1 is already Jan 2 in Paris.
    const backups = [at('2024-01-01T23:30:00Z', 'late'), at('2024-01-02T10:00:00Z', 'next')];
    expect(kept(backups, { keepDaily: 2 }, 'UTC')).toEqual(['late', 'next']);
    expect(kept(backups, { keepDaily: 2 }, 'Europe/Paris')).toEqual(['next']);
  });

  it('keeps weekly and monthly by ISO week and calendar month', () => {
    const backups = [
      at('2024-01-29T00:00:00Z', 'mon-w5'),
      at('2024-01-31T00:00:00Z', 'wed-w5-jan'),
      at('2024-02-02T00:00:00Z', 'fri-w5-feb'),
      at('2024-02-05T00:00:00Z', 'mon-w6'),
    ];
    expect(kept(backups, { keepWeekly: 2 })).toEqual(['fri-w5-feb', 'mon-w6']);
    expect(kept(backups, { keepMonthly: 2 })).toEqual(['mon-w6', 'wed-w5-jan']);
  });

  it('never deletes the newest good backup even when rules would', () => {
    const backups = [
      at('2024-01-01T00:00:00Z', 'good', true),
      at('2024-01-02T00:00:00Z', 'bad1', false),
      at('2024-01-03T00:00:00Z', 'bad2', false),
    ];
    const decision = applyRetention(backups, { keepLast: 1 });
    expect(decision.keep).toEqual([
      { id: 'bad2', reasons: ['last'] },
      { id: 'good', reasons: ['newest-good'] },
    ]);
    expect(decision.remove).toEqual([{ id: 'bad1' }]);
  });

  it('computes ISO weeks across year boundaries', () => {
    expect(isoWeek(2021, 1, 3)).toBe('2020-W53'); // Sunday
    expect(isoWeek(2021, 1, 4)).toBe('2021-W01'); // Monday
    expect(isoWeek(2024, 12, 30)).toBe('2025-W01');
  });
});

describe('prune', () => {
  it('dry run decides but deletes nothing', async () => {
    const deleted: string[] = [];
    const result = await prune({
      backups: [at('2024-01-01T00:00:00Z', 'old'), at('2024-01-02T00:00:00Z', 'new')],
      policy: { keepLast: 1 },
      dryRun: true,
      deleteBackup: async (id) => void deleted.push(id),
    });
    expect(result.decision.remove).toEqual([{ id: 'old' }]);
    expect(deleted).toEqual([]);
  });

  it('reports a failed deletion and carries on with the others', async () => {
    const deleted: string[] = [];
    const result = await prune({
      backups: ['a', 'b', 'c'].map((id, i) => at(`2024-01-0${i + 1}T00:00:00Z`, id)),
      policy: { keepLast: 1 },
      deleteBackup: async (id) => {
        if (id === 'a') throw new Error('disk says no');
        deleted.push(id);
      },
    });
    expect(result.deleted).toEqual(['b']);
    expect(result.failed.map((f) => f.id)).toEqual(['a']);
    expect(deleted).toEqual(['b']);
  });
});

/** Random histories: backups arrive over months (often several a day), some fail verification. */
const policyArb: fc.Arbitrary<RetentionPolicy> = fc.record(
  {
    keepLast: fc.integer({ min: 0, max: 5 }),
    keepDaily: fc.integer({ min: 0, max: 7 }),
    keepWeekly: fc.integer({ min: 0, max: 5 }),
    keepMonthly: fc.integer({ min: 0, max: 4 }),
  },
  { requiredKeys: [] },
);
const stepArb = fc.oneof(
  fc.record({
    type: fc.constant('backup' as const),
    gapMinutes: fc.integer({ min: 1, max: 60 * 24 * 10 }),
    good: fc.boolean(),
  }),
  fc.record({ type: fc.constant('prune' as const) }),
);

describe('retention property', () => {
  it('random sequences of backups and prunes never delete a backup the policy keeps', async () => {
    await fc.assert(
      fc.asyncProperty(
        policyArb,
        fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata'),
        fc.array(stepArb, { minLength: 1, maxLength: 60 }),
        async (policy, tz, steps) => {
          const store = new Map<string, RetentionCandidate>();
          let clock = Date.UTC(2024, 0, 1);
          let n = 0;
          for (const step of steps) {
            if (step.type === 'backup') {
              clock += step.gapMinutes * 60_000;
              const id = `b${String(n++).padStart(3, '0')}`;
              store.set(id, { id, createdAt: new Date(clock), good: step.good });
              continue;
            }
            const before = [...store.values()];
            const mustKeep = new Set(applyRetention(before, policy, tz).keep.map((k) => k.id));
            const result = await prune({
              backups: before,
              policy,
              timeZone: tz,
              deleteBackup: async (id) => void store.delete(id),
            });
            // Nothing the policy keeps was deleted, and everything else was.
            for (const id of result.deleted) expect(mustKeep.has(id)).toBe(false);
            expect(new Set(store.keys())).toEqual(mustKeep);
            // The newest good backup survives every prune.
            const newestGood = before
              .filter((b) => b.good)
              .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0];
            if (newestGood) expect(store.has(newestGood.id)).toBe(true);
            // keep-last: the N newest survive.
            const newest = before.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
            for (const b of newest.slice(0, policy.keepLast ?? 0))
              expect(store.has(b.id)).toBe(true);
            // Pruning is stable: pruning again right away deletes nothing.
            expect(applyRetention([...store.values()], policy, tz).remove).toEqual([]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** A catalog row of one of a few scopes, full or empty, with or without a recorded scope. */
const scopedBackupArb = fc.record({
  project: fc.constantFrom('p1', 'p2'),
  database: fc.constantFrom('(default)', 'other'),
  schedule: fc.constantFrom(null, 'sch_a', 'sch_b'),
  selection: fc.constantFrom<string[] | null>(
    null,
    [],
    ['users'],
    ['users', 'orders'],
    ['orders', 'users'],
  ),
  documents: fc.constantFrom(0, 10),
  minutes: fc.integer({ min: 0, max: 60 * 24 * 60 }),
});
const scopeArb: fc.Arbitrary<RetentionScope> = fc.record({
  firebaseProjectId: fc.constantFrom('p1', 'p2'),
  databaseId: fc.constantFrom('(default)', 'other'),
  scheduleId: fc.constantFrom(null, 'sch_a'),
  selection: fc.constantFrom<string[]>([], ['users'], ['orders', 'users']).map((collections) => ({
    collections,
    exclude: [],
  })),
});

/** A manual backup of project p's default database with this selection. */
const manualBackup = (id: string, selection: CatalogBackup['selection']): CatalogBackup => ({
  destinationId: 'd',
  id,
  firebaseProjectId: 'p',
  databaseId: '(default)',
  scheduleId: null,
  selection,
  createdAt: '2024-01-01T00:00:00Z',
  archiveKey: 'x',
  manifestKey: 'y',
  counts: { 'firestore.documents': 5 },
  bytes: 1,
  verifiedAt: null,
  verifyStatus: null,
  verifyError: null,
});

/** The ids of `backups` in the manual scope of project p's default database and a selection. */
const manualScopeIds =
  (backups: CatalogBackup[]) =>
  (selection: Parameters<typeof selectionOf>[0]): string[] =>
    scopedCandidates(backups, {
      firebaseProjectId: 'p',
      databaseId: '(default)',
      scheduleId: null,
      selection: selectionOf(selection),
    }).candidates.map((c) => c.id);

describe('retention scope property', () => {
  it('a prune never deletes a backup of another scope, nor an unexpected empty one', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(scopedBackupArb, { maxLength: 40 }),
        scopeArb,
        policyArb,
        fc.boolean(),
        async (rows, scope, policy, allowEmpty) => {
          const backups: CatalogBackup[] = rows.map((r, i) => ({
            destinationId: 'd',
            id: `b${String(i).padStart(3, '0')}`,
            firebaseProjectId: r.project,
            databaseId: r.database,
            scheduleId: r.schedule,
            selection: r.selection && { collections: r.selection, exclude: [] },
            createdAt: new Date(Date.UTC(2024, 0, 1) + r.minutes * 60_000).toISOString(),
            archiveKey: 'x',
            manifestKey: 'y',
            counts: { 'firestore.documents': r.documents },
            bytes: 1,
            verifiedAt: null,
            verifyStatus: null,
            verifyError: null,
          }));
          const { candidates } = scopedCandidates(backups, scope, { allowEmpty });
          const deleted: string[] = [];
          await prune({
            backups: candidates,
            policy,
            deleteBackup: async (id) => void deleted.push(id),
          });
          for (const id of deleted) {
            const b = backups.find((x) => x.id === id)!;
            expect(b.firebaseProjectId).toBe(scope.firebaseProjectId);
            expect(b.databaseId).toBe(scope.databaseId);
            expect(b.scheduleId).toBe(scope.scheduleId);
            // Never a backup without a recorded scope (made before scopes existed).
            expect(b.selection).not.toBeNull();
            if (scope.scheduleId === null) {
              expect([...b.selection!.collections].sort()).toEqual(
                [...scope.selection.collections].sort(),
              );
            }
            if (!allowEmpty) expect(b.counts!['firestore.documents']).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an empty backup never pushes a real one out', () => {
    const row = (id: string, iso: string, documents: number): CatalogBackup => ({
      destinationId: 'd',
      id,
      firebaseProjectId: 'p',
      databaseId: '(default)',
      scheduleId: 'sch_a',
      selection: { collections: [], exclude: [] },
      createdAt: iso,
      archiveKey: 'x',
      manifestKey: 'y',
      counts: { 'firestore.documents': documents },
      bytes: 1,
      verifiedAt: null,
      verifyStatus: null,
      verifyError: null,
    });
    const backups = [
      row('real', '2024-01-01T02:00:00Z', 10),
      row('empty1', '2024-01-01T03:00:00Z', 0),
      row('empty2', '2024-01-02T02:00:00Z', 0),
    ];
    const scope: RetentionScope = {
      firebaseProjectId: 'p',
      databaseId: '(default)',
      scheduleId: 'sch_a',
      selection: { collections: [], exclude: [] },
    };
    const { candidates, emptyIgnored } = scopedCandidates(backups, scope);
    expect(applyRetention(candidates, { keepLast: 1, keepDaily: 1 }).keep.map((k) => k.id)).toEqual(
      ['real'],
    );
    expect(emptyIgnored).toEqual(['empty1', 'empty2']);
    // Said to be expected, they count like any other.
    const allowed = scopedCandidates(backups, scope, { allowEmpty: true }).candidates;
    expect(applyRetention(allowed, { keepLast: 1 }).keep.map((k) => k.id)).toEqual(['empty2']);
  });

  it('a manual scope holds only backups of the same sources and buckets', () => {
    const all = { collections: [], exclude: [] };
    const backups = [
      manualBackup('older-manifest', all), // recorded before sources: Firestore only
      manualBackup('firestore', { ...all, sources: ['firestore'] }),
      manualBackup('everything', {
        ...all,
        sources: ['firestore', 'auth', 'storage'],
        storage: { buckets: ['b1'], prefix: '' },
      }),
      manualBackup('other-bucket', {
        ...all,
        sources: ['firestore', 'auth', 'storage'],
        storage: { buckets: ['b2'], prefix: '' },
      }),
    ];
    const ids = manualScopeIds(backups);
    // A Firestore-only prune never touches the backups that also hold users and files.
    expect(ids({})).toEqual(['older-manifest', 'firestore']);
    expect(ids({ sources: ['firestore', 'auth', 'storage'], buckets: ['b1'] })).toEqual([
      'everything',
    ]);
    // Naming no bucket matches no backup of a named bucket.
    expect(ids({ sources: ['firestore', 'auth', 'storage'] })).toEqual([]);
  });

  it('a manual scope holds only backups of the same RTDB paths and instances', () => {
    const manual = (id: string, rtdb?: BackupSelection['rtdb']): CatalogBackup =>
      manualBackup(id, {
        collections: [],
        exclude: [],
        sources: ['firestore', 'rtdb'],
        ...(rtdb ? { rtdb } : {}),
      });
    const backups = [
      manual('no-rtdb-recorded'), // recorded before RTDB selections: whole trees
      manual('whole', { paths: [] }),
      manual('a', { paths: ['/a'] }),
      manual('a-b', { paths: ['/a', '/b'] }),
      manual('a-on-x', { paths: ['/a'], instances: ['x'] }),
    ];
    const ids = manualScopeIds(backups);
    const sources = ['firestore' as const, 'rtdb' as const];
    // A whole-tree prune never deletes a backup of chosen paths (it would not hold them all).
    expect(ids({ sources })).toEqual(['no-rtdb-recorded', 'whole']);
    // Paths compare as sets, normalised ("a/" is "/a"); a path set is its own scope.
    expect(ids({ sources, rtdbPaths: ['a/'] })).toEqual(['a']);
    expect(ids({ sources, rtdbPaths: ['/b', '/a'] })).toEqual(['a-b']);
    // Named instances are part of the scope too.
    expect(ids({ sources, rtdbPaths: ['/a'], rtdbInstances: ['x'] })).toEqual(['a-on-x']);
    // Without rtdb among the sources, none of them is in scope.
    expect(ids({ sources: ['firestore'] })).toEqual([]);
  });
});
