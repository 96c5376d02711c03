import { describe, expect, it } from 'vitest';
import { filterBackups, type BackupRow } from './backup-filters.js';

const row = (i: number, patch: Partial<BackupRow> = {}): BackupRow => ({
  destinationId: 'dst_1',
  id: `bkp_20261130T0000${String(i).padStart(5, '0')}Z_0000000${i % 10}`,
  project: i % 2 ? 'demo-prod' : 'demo-staging',
  database: '(default)',
  scheduleId: i % 3 ? 'sch_nightly' : null,
  createdAt: new Date(Date.UTC(2026, 0, 1) + i * 3_600_000).toISOString(),
  documents: i,
  bytes: i * 100,
  verifyState: i % 5 === 0 ? 'failed' : 'verified',
  verifiedAt: null,
  verifyError: null,
  ...patch,
});

describe('the backups list filters', () => {
  const rows = Array.from({ length: 5000 }, (_, i) => row(i));

  it('filters by project, verification, dates and text together', () => {
    const out = filterBackups(rows, {
      project: 'demo-prod',
      verifyState: 'failed',
      from: '2026-01-02T00:00:00Z',
      to: '2026-01-05',
      text: 'NIGHTLY',
    });
    expect(out.length).toBeGreaterThan(0);
    for (const r of out) {
      expect(r.project).toBe('demo-prod');
      expect(r.verifyState).toBe('failed');
      expect(r.createdAt >= '2026-01-02T00:00:00.000Z' && r.createdAt < '2026-01-05').toBe(true);
      expect(r.scheduleId).toBe('sch_nightly');
    }
  });

  it('filters 5,000 backups in well under 100 ms', () => {
    const started = performance.now();
    for (let i = 0; i < 10; i++) filterBackups(rows, { text: 'staging', verifyState: 'verified' });
    expect((performance.now() - started) / 10).toBeLessThan(100);
  });
});
