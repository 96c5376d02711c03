import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import type { Schedule } from '../../src/shared/schedules.js';
import { createApiEvents } from '../../src/engine/api/events.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { newBackupId } from '../../src/engine/operations/backup-names.js';
import { okValue as value } from '../helpers/api-result.js';

const local = { kind: 'local' as const };

/** The Schedules screen's methods over a real runtime and catalog (no Firestore needed). */
describe('schedules through the contract', () => {
  let runtime: Runtime;
  let dispatch: ReturnType<typeof createDispatcher>;
  let projectId: string;
  let destinationId: string;
  let folder: string;
  const changes: Array<{ change: string; schedule: Schedule }> = [];
  const input = () => ({ name: 'nightly', projectId, destinationId, cron: '0 2 * * *' });

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-sched-api-'));
    const keyring = new Keyring(MasterKey.generate());
    runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
    projectId = runtime.catalog.projects.upsert({
      name: 'demo',
      firebaseProjectId: 'demo-sched',
      emulatorHost: '127.0.0.1:1',
    }).id;
    folder = path.join(dir, 'backups');
    destinationId = runtime.catalog.destinations.upsert({ name: 'local', url: folder }).id;
    dispatch = createDispatcher(createApiHandlers(runtime, keyring));
    createApiEvents(runtime).subscribe('schedule.changed', (p) =>
      changes.push(p as (typeof changes)[number]),
    );
  });
  afterAll(() => runtime?.close());

  it('creates, edits, pauses, resumes and removes a schedule, announcing each change', async () => {
    const created = value<{ schedule: Schedule; savedInDestination: boolean }>(
      await dispatch('schedules.create', { ...input(), timeZone: 'Europe/Paris' }, local),
    );
    expect(created.schedule).toMatchObject({
      name: 'nightly',
      enabled: true,
      timeZone: 'Europe/Paris',
    });
    // The destination keeps a copy, so a catalog rebuild brings the schedule back.
    expect(created.savedInDestination).toBe(true);
    expect(await readdir(folder)).toContain('schedules.fbc');
    const id = created.schedule.id;

    const edited = value<{ schedule: Schedule }>(
      await dispatch(
        'schedules.update',
        { id, changes: { cron: '30 3 * * 1', retention: { keepLast: 3 } } },
        local,
      ),
    );
    expect(edited.schedule).toMatchObject({
      cron: '30 3 * * 1',
      retention: { keepLast: 3 },
      timeZone: 'Europe/Paris',
      verifyAfter: { mode: 'full' },
    });
    expect(
      value<{ schedule: Schedule }>(await dispatch('schedules.pause', { id }, local)).schedule
        .enabled,
    ).toBe(false);
    expect(
      value<{ schedule: Schedule }>(await dispatch('schedules.resume', { id }, local)).schedule
        .enabled,
    ).toBe(true);
    expect(changes.map((c) => c.change)).toEqual(['created', 'updated', 'updated', 'updated']);
    value(await dispatch('schedules.remove', { id }, local));
    expect(changes.at(-1)).toMatchObject({ change: 'removed', schedule: { id } });
    expect(value<Schedule[]>(await dispatch('schedules.list', {}, local))).toEqual([]);
  });

  it('refuses bad cron, zones, names and ids with INVALID_ARGUMENT / NOT_FOUND', async () => {
    for (const bad of [
      { ...input(), cron: '61 * * * *' },
      { ...input(), cron: 'every day' },
      { ...input(), timeZone: 'Mars/Olympus' },
      { ...input(), name: '' },
    ]) {
      expect(await dispatch('schedules.create', bad, local)).toMatchObject({
        ok: false,
        error: { code: 'INVALID_ARGUMENT' },
      });
    }
    expect(
      await dispatch('schedules.create', { ...input(), projectId: 'prj_nope' }, local),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    value(await dispatch('schedules.create', input(), local));
    expect(await dispatch('schedules.create', input(), local)).toMatchObject({
      ok: false,
      error: { code: 'ALREADY_EXISTS' },
    });
    expect(await dispatch('schedules.pause', { id: 'sch_nope' }, local)).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    const viewer = { kind: 'member' as const, role: 'viewer' as const };
    expect(await dispatch('schedules.remove', { id: 'nightly' }, viewer)).toMatchObject({
      ok: false,
      error: { code: 'PERMISSION_DENIED' },
    });
  });

  it('previews the next five runs in the chosen time zone, across a DST change', async () => {
    const { runs } = value<{ runs: Array<{ at: string; local: string }> }>(
      await dispatch(
        'schedules.preview',
        { cron: '0 2 * * *', timeZone: 'Europe/Paris', after: '2026-03-26T12:00:00.000Z' },
        local,
      ),
    );
    expect(runs).toEqual([
      { at: '2026-03-27T01:00:00.000Z', local: 'Fri 2026-03-27 02:00 (GMT+1)' },
      { at: '2026-03-28T01:00:00.000Z', local: 'Sat 2026-03-28 02:00 (GMT+1)' },
      // 02:00 does not exist on the night clocks go forward: cron-parser runs at 03:00.
      { at: '2026-03-29T01:00:00.000Z', local: 'Sun 2026-03-29 03:00 (GMT+2)' },
      { at: '2026-03-30T00:00:00.000Z', local: 'Mon 2026-03-30 02:00 (GMT+2)' },
      { at: '2026-03-31T00:00:00.000Z', local: 'Tue 2026-03-31 02:00 (GMT+2)' },
    ]);
  });

  it("previews which of a schedule's backups a policy keeps and prunes", async () => {
    const s = runtime.catalog.schedules.get('nightly');
    const day = (n: number) => new Date(Date.UTC(2026, 10, n, 2));
    for (const n of [1, 2, 3, 4, 5]) {
      runtime.catalog.backups.upsert({
        destinationId,
        id: newBackupId(day(n)),
        firebaseProjectId: 'demo-sched',
        databaseId: '(default)',
        scheduleId: s.id,
        selection: { collections: [], exclude: [], sources: ['firestore'] },
        createdAt: day(n).toISOString(),
        archiveKey: 'x',
        manifestKey: 'y',
        counts: { 'firestore.documents': 10 },
        bytes: 100,
      });
    }
    // A manual backup of the same project is not the schedule's to prune.
    runtime.catalog.backups.upsert({
      destinationId,
      id: newBackupId(day(6)),
      firebaseProjectId: 'demo-sched',
      databaseId: '(default)',
      scheduleId: null,
      selection: { collections: [], exclude: [], sources: ['firestore'] },
      createdAt: day(6).toISOString(),
      archiveKey: 'x',
      manifestKey: 'y',
      counts: { 'firestore.documents': 10 },
      bytes: 100,
    });
    const preview = value<{
      keep: Array<{ createdAt: string; reasons: string[] }>;
      prune: Array<{ createdAt: string }>;
      scope: string;
    }>(
      await dispatch(
        'schedules.retentionPreview',
        { scheduleId: s.id, retention: { keepLast: 2 } },
        local,
      ),
    );
    expect(preview.keep.map((k) => k.createdAt)).toEqual(
      [day(5), day(4)].map((d) => d.toISOString()),
    );
    expect(preview.keep[0]!.reasons).toEqual(['last', 'newest-good']);
    expect(preview.prune.map((k) => k.createdAt)).toEqual(
      [day(3), day(2), day(1)].map((d) => d.toISOString()),
    );
    expect(preview.scope).toContain('schedule "nightly"');
    const manual = value<{ keep: unknown[]; prune: unknown[] }>(
      await dispatch(
        'schedules.retentionPreview',
        { projectId, destinationId, retention: { keepLast: 1 } },
        local,
      ),
    );
    expect(manual.keep).toHaveLength(1);
    expect(manual.prune).toHaveLength(0);
    expect(
      await dispatch('schedules.retentionPreview', { retention: { keepLast: 1 } }, local),
    ).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });
  });
});
