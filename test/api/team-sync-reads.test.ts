import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDispatcher, type Result } from '../../src/shared/api/dispatch.js';
import type { SyncState } from '../../src/shared/api/methods/sync.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { okValue } from '../helpers/api-result.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/**
 * The catalog screens in team sync mode (ADR 0015): projects, destinations, schedules,
 * history and backups read the organisation's shared state from a real organisation
 * server (in-process, PGlite), merged with what is only on this machine, and the last
 * known state when the server is down.
 */

type Origin = { where: 'both' | 'server' | 'local'; serverId: string | null; pending: boolean };
type Row = Record<string, unknown> & { origin?: Origin };

describe('catalog lists in team sync mode, against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;
  const runtimes: Runtime[] = [];
  const BACKUP_ID = 'bkp_20261130T101500000Z_0123abcd';
  let sharedFolder: string;
  /** What member A published to the organisation. */
  let published: { projectId: string; destinationId: string; scheduleId: string; runId: string };

  /** An app (its own FIREBACKUP_HOME), signed in as `email` with the organisation picked. */
  const appOf = async (email: string | null) => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-reads-'));
    const keyring = new Keyring(MasterKey.generate());
    const runtime = createRuntime({ env: { FIREBACKUP_HOME: home }, keyring });
    runtimes.push(runtime);
    const secrets =
      email === null ? undefined : await signedInSecrets(home, await server.signIn(email, orgId));
    const dispatch = createDispatcher(
      createApiHandlers(runtime, keyring, {
        dataDir: home,
        env: { FIREBACKUP_HOME: home },
        ...(secrets ? { secrets } : {}),
      }),
    );
    return (method: string, input: unknown = {}) => dispatch(method, input, { kind: 'local' });
  };
  /** A project set up on that app's machine (an emulator connection: nothing to reach). */
  const addProject = async (
    app: Awaited<ReturnType<typeof appOf>>,
    name: string,
    firebaseProjectId: string,
  ) =>
    okValue<Row>(
      await app('projects.add', {
        name,
        firebaseProjectId,
        connection: { kind: 'emulator', host: '127.0.0.1:8080' },
      }),
    );
  const rows = async (r: Promise<Result<unknown>>) => okValue<Row[]>(await r);
  const byName = (list: Row[], name: string) => list.find((r) => r.name === name);

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('ann@acme.test', {
      'bob@acme.test': 'member',
      'vic@acme.test': 'viewer',
    }));
    sharedFolder = await mkdtemp(path.join(tmpdir(), 'fb-sync-shared-'));
    // Member A publishes a project, a destination, a schedule, a finished backup run and
    // its backup record (what the write side of sync mode sends).
    const post = async (route: string, body: unknown) =>
      (await server.publish('ann@acme.test', orgId, route, body)).id;
    const projectId = await post('/projects', {
      name: 'Shared app',
      firebaseProjectId: 'shared-app',
    });
    const destinationId = await post('/destinations', { name: 'Team folder', url: sharedFolder });
    const scheduleId = await post('/schedules', {
      name: 'Nightly shared',
      projectId,
      destinationId,
      cron: '0 3 * * *',
    });
    const runId = await post('/runs', {
      projectId,
      destinationId,
      scheduleId,
      status: 'finished',
      startedAt: '2026-11-30T10:15:00.000Z',
      finishedAt: '2026-11-30T10:16:00.000Z',
      bytes: 4096,
      documentCount: 12,
      backupId: BACKUP_ID,
    });
    await post('/backups', {
      projectId,
      keyId: 'key-ann-1',
      sizeBytes: 4096,
      documentCount: 12,
      backupId: BACKUP_ID,
      sources: ['firestore', 'auth'],
    });
    published = { projectId, destinationId, scheduleId, runId };
  });
  afterAll(async () => {
    for (const r of runtimes) r.close();
    await server?.close();
  });

  it("member B sees member A's project, destination, schedule, run and backup as the organisation's", async () => {
    const bob = await appOf('bob@acme.test');

    const projects = await rows(bob('projects.list'));
    expect(byName(projects, 'Shared app')).toMatchObject({
      id: published.projectId,
      firebaseProjectId: 'shared-app',
      origin: { where: 'server', serverId: published.projectId, pending: false },
    });

    const destinations = await rows(bob('destinations.list'));
    expect(byName(destinations, 'Team folder')).toMatchObject({
      id: published.destinationId,
      url: sharedFolder,
      secretSaved: false,
      origin: { where: 'server' },
    });

    const schedules = await rows(bob('schedules.list'));
    expect(byName(schedules, 'Nightly shared')).toMatchObject({
      id: published.scheduleId,
      projectId: published.projectId,
      destinationId: published.destinationId,
      cron: '0 3 * * *',
      enabled: true,
      origin: { where: 'server' },
    });

    const runs = await rows(bob('history.runs', {}));
    expect(runs.find((r) => r.id === published.runId)).toMatchObject({
      kind: 'backup',
      status: 'succeeded',
      backupId: BACKUP_ID,
      bytes: 4096,
      counts: { 'firestore.documents': 12 },
      projectName: 'Shared app',
      scheduleName: 'Nightly shared',
      origin: { where: 'server' },
    });
    // History filters apply to the organisation's runs too.
    expect(await rows(bob('history.runs', { status: 'failed' }))).toEqual([]);

    // The destination is not set up on B's machine: its backups are the organisation's.
    const backups = await rows(bob('backups.list', { destinationId: published.destinationId }));
    expect(backups).toEqual([
      expect.objectContaining({
        id: BACKUP_ID,
        size: 4096,
        documents: 12,
        project: 'shared-app',
        // The record (its key id) and the run (its backup id, destination) are one backup.
        keyId: 'key-ann-1',
        readable: false,
        origin: expect.objectContaining({ where: 'server' }),
      }),
    ]);

    // The Backups screen searches every destination: the same one backup, once.
    const search = okValue<{ backups: Row[]; total: number; sync?: unknown }>(
      await bob('backups.search', {}),
    );
    expect(search.backups).toEqual([
      expect.objectContaining({
        id: BACKUP_ID,
        destinationId: published.destinationId,
        project: 'shared-app',
        bytes: 4096,
        documents: 12,
        origin: expect.objectContaining({ where: 'server' }),
      }),
    ]);
    expect(search).toMatchObject({ total: 1, sync: { source: 'server', offline: false } });
    expect(
      okValue<{ backups: Row[] }>(await bob('backups.search', { project: 'other-app' })).backups,
    ).toEqual([]);

    const state = okValue<SyncState>(await bob('sync.state'));
    expect(state).toMatchObject({
      mode: 'server',
      organization: { id: orgId, role: 'member' },
      lists: {
        projects: { source: 'server', offline: false, problem: null },
        backups: { source: 'server', offline: false },
      },
    });
    expect(state.lists.projects?.syncedAt).toEqual(expect.any(String));
  });

  it("member A's own rows are merged with the organisation's (one row, the local id); one made here is local until its queued create is delivered", async () => {
    const ann = await appOf('ann@acme.test');
    const local = await addProject(ann, 'Shared app', 'shared-app');
    await addProject(ann, 'Only here', 'only-here');
    const dest = okValue<Row>(
      await ann('destinations.add', { name: 'Team folder', url: sharedFolder }),
    );

    const projects = await rows(ann('projects.list'));
    expect(projects.filter((p) => p.firebaseProjectId === 'shared-app')).toEqual([
      expect.objectContaining({
        id: local.id,
        connection: 'emulator',
        origin: { where: 'both', serverId: published.projectId, pending: false },
      }),
    ]);
    // Made here in sync mode, so queued for the organisation (the write side, ADR 0016):
    // local and pending until delivered, then one row on both sides with its server id.
    expect(['local', 'both']).toContain(byName(projects, 'Only here')?.origin?.where);
    okValue(await ann('team.sync'));
    expect(byName(await rows(ann('projects.list')), 'Only here')).toMatchObject({
      id: expect.any(String),
      origin: { where: 'both', serverId: expect.any(String), pending: false },
    });

    const destinations = await rows(ann('destinations.list'));
    expect(destinations.filter((d) => d.url === sharedFolder)).toEqual([
      expect.objectContaining({ id: dest.id, origin: expect.objectContaining({ where: 'both' }) }),
    ]);

    // The local destination (empty folder) lists the backup the organisation placed there.
    const backups = await rows(ann('backups.list', { destinationId: dest.id }));
    expect(backups.map((b) => [b.id, b.origin?.where])).toEqual([[BACKUP_ID, 'server']]);

    // A server schedule's project and destination are named by this machine's ids.
    const schedules = await rows(ann('schedules.list'));
    expect(byName(schedules, 'Nightly shared')).toMatchObject({
      projectId: local.id,
      destinationId: dest.id,
    });
  });

  it('server down: the last synced rows, marked offline with their age; local rows still there', async () => {
    const bob = await appOf('bob@acme.test');
    const live = await rows(bob('projects.list'));
    await rows(bob('history.runs', {}));
    // The screens ask for the state after each list (picking the organisation caches the
    // role too): the role is then known offline.
    okValue(await bob('sync.state'));
    // A machine that never synced this organisation, with a project of its own.
    const fresh = await appOf('bob@acme.test');
    await addProject(fresh, 'Mine', 'mine-app');
    await server.down();
    try {
      const cached = await rows(bob('projects.list'));
      expect(cached).toEqual(live);
      const runs = await rows(bob('history.runs', {}));
      expect(runs.map((r) => r.id)).toContain(published.runId);
      const state = okValue<SyncState>(await bob('sync.state'));
      expect(state).toMatchObject({
        mode: 'server',
        // The role is the last known one: the screens stay gated offline.
        organization: { id: orgId, role: 'member' },
        lists: {
          projects: { source: 'server', offline: true, problem: { code: 'UNAVAILABLE' } },
          runs: { source: 'server', offline: true },
        },
      });
      expect(state.lists.projects?.syncedAt).toEqual(expect.any(String));

      // Never synced, offline: its own rows (never an error instead), and why no others.
      const mine = await rows(fresh('projects.list'));
      expect(mine.map((p) => [p.name, p.origin?.where])).toEqual([['Mine', 'local']]);
      // Sent while offline: queued; the row says it is not on the server yet.
      expect(
        okValue(
          await fresh('team.projects.create', { name: 'Mine', firebaseProjectId: 'mine-app' }),
        ),
      ).toMatchObject({ queued: true });
      expect((await rows(fresh('projects.list'))).map((p) => p.origin)).toEqual([
        { where: 'local', serverId: null, pending: true },
      ]);
      expect(okValue<SyncState>(await fresh('sync.state')).lists.projects).toMatchObject({
        source: 'local',
        offline: true,
        problem: { code: 'UNAVAILABLE' },
      });
    } finally {
      await server.up();
    }
  });

  it("the Dashboard shows the organisation's projects, runs and storage, merged with this machine's like the lists; offline the cached state", async () => {
    type Overview = { projects: Row[]; destinations: Row[] };
    // A year: the published run stays "ok" whenever this runs.
    const overview = async (app: Awaited<ReturnType<typeof appOf>>) =>
      okValue<Overview>(await app('dashboard.overview', { staleAfterHours: 24 * 365 }));
    const bob = await appOf('bob@acme.test');
    await addProject(bob, 'Bob only', 'bob-only');
    const live = await overview(bob);
    expect(byName(live.projects, 'Shared app')).toMatchObject({
      projectId: published.projectId,
      health: 'ok',
      lastGood: { runId: published.runId, backupId: BACKUP_ID },
      lastRun: { runId: published.runId, status: 'succeeded' },
      nextRun: { scheduleId: published.scheduleId, scheduleName: 'Nightly shared' },
      origin: { where: 'server', serverId: published.projectId },
    });
    expect(byName(live.projects, 'Bob only')).toMatchObject({
      health: 'never',
      origin: { where: expect.stringMatching(/^(local|both)$/) },
    });
    expect(byName(live.destinations, 'Team folder')).toMatchObject({
      destinationId: published.destinationId,
      backups: 1,
      bytes: 4096,
      origin: { where: 'server' },
    });
    const series = okValue<Row[]>(await bob('dashboard.series', { days: 3660 }));
    expect(series).toContainEqual(
      expect.objectContaining({
        runId: published.runId,
        projectId: published.projectId,
        documents: 12,
      }),
    );
    expect(okValue<SyncState>(await bob('sync.state')).lists).toMatchObject({
      projects: { source: 'server', offline: false },
      runs: { source: 'server', offline: false },
    });

    // The same project set up here: one row, this machine's id, the organisation's runs.
    const ann = await appOf('ann@acme.test');
    const local = await addProject(ann, 'Shared app', 'shared-app');
    const merged = (await overview(ann)).projects.filter(
      (p) => p.firebaseProjectId === 'shared-app',
    );
    expect(merged).toEqual([
      expect.objectContaining({
        projectId: local.id,
        lastGood: expect.objectContaining({ runId: published.runId }),
        origin: expect.objectContaining({ where: 'both', serverId: published.projectId }),
      }),
    ]);

    // Offline: the last synced state, and sync.state says so (the screen's banner).
    await server.down();
    try {
      const cached = await overview(bob);
      // The same rows (the age of the last good backup has grown meanwhile).
      const steady = (projects: Row[]) =>
        projects.map((p) => ({ ...p, lastGood: { ...(p.lastGood as object), ageSeconds: 0 } }));
      expect(steady(cached.projects)).toEqual(steady(live.projects));
      expect(cached.destinations).toEqual(live.destinations);
      expect(okValue<SyncState>(await bob('sync.state')).lists.projects).toMatchObject({
        source: 'server',
        offline: true,
      });
    } finally {
      await server.up();
    }

    // A viewer reads it too.
    const vic = await appOf('vic@acme.test');
    expect(byName((await overview(vic)).projects, 'Shared app')).toBeDefined();
  });

  it("a backup only the server knows opens from the server's metadata, saying what restoring it here needs", async () => {
    const bob = await appOf('bob@acme.test');
    type Shared = Row & { needs: string[]; here: Row | null; run: Row | null };
    const ref = { destinationId: published.destinationId, backupId: BACKUP_ID };
    // Not readable here: its destination is not set up on this machine.
    expect(await bob('backups.detail', ref)).toMatchObject({ ok: false });
    const shared = okValue<Shared>(await bob('backups.shared', ref));
    expect(shared).toMatchObject({
      id: BACKUP_ID,
      project: 'shared-app',
      projectName: 'Shared app',
      sources: ['firestore', 'auth'],
      documents: 12,
      bytes: 4096,
      keyId: 'key-ann-1',
      keyHeld: false,
      destination: { serverId: published.destinationId, name: 'Team folder', url: sharedFolder },
      here: null,
      recordedBy: 'ann@acme.test',
      run: {
        id: published.runId,
        status: 'succeeded',
        finishedAt: '2026-11-30T10:16:00.000Z',
        reportedBy: 'ann@acme.test',
      },
      sync: { source: 'server', offline: false },
    });
    expect(shared.needs).toEqual([
      expect.stringContaining(`Add the destination ${sharedFolder} with its credentials`),
      expect.stringContaining('Import the key key-ann-1'),
    ]);

    // The same URL set up here: the list row names this machine's destination, and the
    // detail offers to read the archive from it (only the key is still missing).
    const dest = okValue<Row>(await bob('destinations.add', { name: 'Mine', url: sharedFolder }));
    const row = okValue<{ backups: Row[] }>(await bob('backups.search', {})).backups.find(
      (b) => b.id === BACKUP_ID,
    );
    expect(row).toMatchObject({ destinationId: dest.id, origin: { where: 'server' } });
    const here = okValue<Shared>(
      await bob('backups.shared', { destinationId: dest.id, backupId: BACKUP_ID }),
    );
    expect(here.here).toEqual({ destinationId: dest.id, name: 'Mine' });
    expect(here.needs).toEqual([expect.stringContaining('Import the key key-ann-1')]);

    // Offline: from the cached lists; an unknown backup is a clear NOT_FOUND.
    await server.down();
    try {
      expect(okValue<Shared>(await bob('backups.shared', ref))).toMatchObject({
        id: BACKUP_ID,
        sync: { offline: true },
      });
    } finally {
      await server.up();
    }
    expect(
      await bob('backups.shared', { ...ref, backupId: 'bkp_20991231T000000000Z_00000000' }),
    ).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });

  it('a viewer reads every list; a write it forces is refused by the server', async () => {
    const vic = await appOf('vic@acme.test');
    expect(byName(await rows(vic('projects.list')), 'Shared app')).toBeDefined();
    expect((await rows(vic('history.runs', {}))).length).toBeGreaterThan(0);
    const state = okValue<SyncState>(await vic('sync.state'));
    expect(state.organization).toMatchObject({ role: 'viewer' });
    const forced = await vic('team.projects.create', {
      name: 'Nope',
      firebaseProjectId: 'nope-nope',
    });
    expect(forced).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED' } });
  });

  it('outside sync mode nothing changes: local rows only, no origin, mode local', async () => {
    const solo = await appOf(null);
    await addProject(solo, 'Solo', 'solo-app');
    const projects = await rows(solo('projects.list'));
    expect(projects).toHaveLength(1);
    expect(projects[0]).not.toHaveProperty('origin');
    expect(okValue(await solo('backups.search', {}))).toEqual({ backups: [], total: 0 });
    expect(okValue<SyncState>(await solo('sync.state'))).toMatchObject({
      mode: 'local',
      organization: null,
      lists: { projects: { source: 'local', offline: false } },
    });
  });

  it('a backup record names its destination: shown where it lives though no run of it reached the server', async () => {
    const bob = await appOf('bob@acme.test');
    type Shared = Row & { needs: string[]; here: Row | null; run: Row | null };
    const post = (body: Record<string, unknown>) =>
      server.publish('ann@acme.test', orgId, '/backups', {
        projectId: published.projectId,
        keyId: 'key-ann-1',
        sizeBytes: 512,
        sources: ['firestore'],
        ...body,
      });
    // Into the shared destination, named by the server's id (the URL is filled in from it).
    const NAMED = 'bkp_20261130T111500000Z_1111aaaa';
    expect(await post({ backupId: NAMED, destinationId: published.destinationId })).toMatchObject({
      destinationId: published.destinationId,
      destinationUrl: sharedFolder,
    });
    // Into a folder the organisation does not have (a member may not add one): its URL only.
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'fb-sync-elsewhere-'));
    const UNSHARED = 'bkp_20261130T121500000Z_2222bbbb';
    await post({ backupId: UNSHARED, destinationUrl: elsewhere });

    const search = okValue<{ backups: Row[] }>(await bob('backups.search', {})).backups;
    const named = search.find((b) => b.id === NAMED);
    expect(named).toMatchObject({ destinationId: published.destinationId, bytes: 512 });
    const shared = okValue<Shared>(
      await bob('backups.shared', { destinationId: published.destinationId, backupId: NAMED }),
    );
    expect(shared).toMatchObject({
      destination: { serverId: published.destinationId, name: 'Team folder', url: sharedFolder },
      run: null,
    });

    // Known by its URL only: the detail says where it is, and once a destination with that
    // URL is set up here, the row names it and the archive can be read from it.
    const unshared = search.find((b) => b.id === UNSHARED)!;
    const opened = okValue<Shared>(
      await bob('backups.shared', {
        destinationId: String(unshared.destinationId),
        backupId: UNSHARED,
      }),
    );
    expect(opened).toMatchObject({ destination: { serverId: null, url: elsewhere }, here: null });
    expect(opened.needs[0]).toContain(`Add the destination ${elsewhere} with its credentials`);
    const mine = okValue<Row>(await bob('destinations.add', { name: 'Elsewhere', url: elsewhere }));
    const row = okValue<{ backups: Row[] }>(await bob('backups.search', {})).backups.find(
      (b) => b.id === UNSHARED,
    );
    expect(row).toMatchObject({ destinationId: mine.id, origin: { where: 'server' } });
    const here = okValue<Shared>(
      await bob('backups.shared', { destinationId: mine.id, backupId: UNSHARED }),
    );
    expect(here.here).toEqual({ destinationId: mine.id, name: 'Elsewhere' });
  });
});
