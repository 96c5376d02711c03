import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { CheckReport } from '../../src/shared/check.js';
import { Catalog } from '../../src/engine/catalog/catalog.js';
import * as m001 from '../../src/engine/catalog/migrations/001-initial.js';
import { ManualClock } from '../../src/engine/clock.js';
import { createEngineOps } from '../../src/engine/jobs/engine-adapter.js';
import { JobManager } from '../../src/engine/jobs/job-manager.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { MemoryNotifier } from '../../src/engine/notify/notifier.js';
import { LockManager } from '../../src/engine/scheduler/locks.js';
import { Scheduler } from '../../src/engine/scheduler/scheduler.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { damage } from '../helpers/damaged-destination.js';

describe('check schedules', () => {
  it('run a whole-destination check on the timetable; damage fails the run and notifies', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-check-sched-'));
    const key = MasterKey.generate();
    const d = await damage(new LocalBackend(dir), new LocalBackend(dir), key);
    const clock = new ManualClock('2026-06-01T00:00:00Z');
    const catalog = Catalog.open(':memory:', clock);
    try {
      const project = catalog.projects.upsert({ name: 'demo', firebaseProjectId: 'demo' });
      const destination = catalog.destinations.upsert({ name: 'local', url: dir });
      catalog.schedules.add({
        name: 'weekly check',
        kind: 'check',
        projectId: project.id,
        destinationId: destination.id,
        cron: '0 3 * * 0',
        timeZone: 'UTC',
        verifyAfter: { mode: 'sample', fraction: 0.5 },
      });
      const notifier = new MemoryNotifier();
      const locks = new LockManager(catalog.db, { clock, heartbeatMs: 3_600_000 });
      const scheduler = new Scheduler({
        catalog,
        engine: createEngineOps({ keyring: new Keyring(key) }),
        jobs: new JobManager({ catalog, locks, clock }),
        clock,
        notifier,
      });
      clock.set('2026-06-07T03:00:01Z'); // a Sunday
      const [job] = await scheduler.check();
      const run = await job!.done;
      expect(run).toMatchObject({ kind: 'check', status: 'failed', error: { code: 'INTEGRITY' } });
      const report = (run.detail as { report: CheckReport }).report;
      expect(report.readData.fraction).toBe(0.5);
      expect(report.categories.digests.items.map((i) => i.id)).toEqual([d.flipped]);
      expect(notifier.sent.map((n) => n.kind)).toEqual(['run.failed']);
      expect(notifier.sent[0]!.message).toContain(d.flipped);
    } finally {
      catalog.close();
    }
  });

  it('migration 003 keeps existing schedules and accepts the new kind', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'fb-mig3-')), 'catalog.sqlite');
    const v1 = new Database(file);
    v1.exec(m001.sql);
    v1.pragma('user_version = 1');
    v1.exec(`INSERT INTO projects (id, name, firebase_project_id, created_at) VALUES ('p1', 'demo', 'demo', '2026-01-01T00:00:00Z');
      INSERT INTO destinations (id, name, url, created_at) VALUES ('d1', 'local', '/tmp/x', '2026-01-01T00:00:00Z');
      INSERT INTO schedules (id, name, kind, project_id, destination_id, cron, time_zone, config_json, created_at)
        VALUES ('s1', 'nightly', 'backup', 'p1', 'd1', '0 2 * * *', 'UTC', '{"scope":{},"retention":{},"verifyAfter":{"mode":"full"},"verifyBatch":3,"notifyOnSuccess":false}', '2026-01-01T00:00:00Z');`);
    v1.close();
    const catalog = Catalog.open(file, new ManualClock('2026-02-01T00:00:00Z'));
    try {
      expect(catalog.schedules.list().map((s) => [s.name, s.kind])).toEqual([
        ['nightly', 'backup'],
      ]);
      const added = catalog.schedules.add({
        name: 'check',
        kind: 'check',
        projectId: 'p1',
        destinationId: 'd1',
        cron: '0 3 * * 0',
      });
      expect(added.kind).toBe('check');
    } finally {
      catalog.close();
    }
  });
});
