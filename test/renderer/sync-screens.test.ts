import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SyncState } from '../../src/shared/api/methods/sync.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { LocalBackend } from '../../src/engine/storage/local/local-backend.js';
import { craftBackup, sampleDocuments } from '../helpers/craft-backup.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import {
  canOnScreen,
  orgTitle,
  originNote,
  setUpHere,
  syncNotice,
} from '../../src/renderer/features/sync/abilities.js';
import type { AppStore } from '../../src/renderer/store/index.js';
import { rendererStore } from '../helpers/renderer-store.js';
import { until } from '../helpers/store-until.js';
import { signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/** A sync state as `sync.state` answers it. */
const state = (
  role: SyncState['organization'] extends infer O
    ? O extends { role: infer R }
      ? R
      : never
    : never,
  projects: Partial<NonNullable<SyncState['lists']['projects']>> = {},
): SyncState => ({
  mode: 'server',
  organization: { id: 'org_1', name: 'Acme', role },
  lists: {
    projects: { source: 'server', syncedAt: null, offline: false, problem: null, ...projects },
    destinations: null,
    schedules: null,
    runs: null,
    backups: null,
  },
});

const WRITES = [
  'backups:create',
  'backups:restore',
  'backups:delete',
  'schedules:manage',
  'projects:manage',
] as const;

describe('what the catalog screens offer and say in team sync mode', () => {
  it('outside sync mode (or before the state is known) every action is offered', () => {
    for (const action of WRITES) {
      expect(canOnScreen(null, action)).toBe(true);
      expect(canOnScreen({ ...state('viewer'), mode: 'local', organization: null }, action)).toBe(
        true,
      );
    }
  });

  it('a viewer is offered no write; a member backs up and schedules; only admins delete and manage projects', () => {
    for (const action of WRITES) expect(canOnScreen(state('viewer'), action)).toBe(false);
    expect(canOnScreen(state('viewer'), 'backups:view')).toBe(true);
    const member = state('member');
    expect(WRITES.filter((a) => canOnScreen(member, a))).toEqual([
      'backups:create',
      'backups:restore',
      'schedules:manage',
    ]);
    expect(WRITES.filter((a) => canOnScreen(state('admin'), a))).toEqual([...WRITES]);
    // In sync mode with the role not known yet (never synced, offline): reading only.
    const unknown = { ...state('member'), organization: null };
    expect(WRITES.filter((a) => canOnScreen(unknown, a))).toEqual([]);
  });

  it('what a backup, schedule or restore here can use: rows set up on this machine', () => {
    const origin = (where: 'both' | 'server' | 'local') => ({
      where,
      serverId: null,
      pending: false,
    });
    const rows = [
      { id: 'a' },
      { id: 'b', origin: origin('both') },
      { id: 'c', origin: origin('server') },
      { id: 'd', origin: origin('local') },
    ];
    expect(setUpHere(rows).map((r) => r.id)).toEqual(['a', 'b', 'd']);
  });

  it('headings name the organisation in sync mode only; a row says whose it is', () => {
    const projects = (st: SyncState | null) =>
      orgTitle(st, 'Your projects', (org) => `Projects of ${org}`);
    expect(projects(state('viewer'))).toBe('Projects of Acme');
    expect(projects(null)).toBe('Your projects');
    expect(projects({ ...state('owner'), mode: 'local', organization: null })).toBe(
      'Your projects',
    );
    // Sync mode with the organisation not known yet (never synced, offline): no name.
    expect(projects({ ...state('member'), organization: null })).toBe('Your projects');
    expect(originNote({ where: 'server', serverId: 'prj_1', pending: false })).toBe(
      'Not set up on this machine',
    );
    expect(originNote({ where: 'local', serverId: null, pending: true })).toBe(
      'Not sent to the server yet',
    );
    expect(originNote({ where: 'both', serverId: 'prj_1', pending: false })).toBeNull();
    expect(originNote(undefined)).toBeNull();
  });

  it('the banner: offline with the age of the rows; never synced; shared with whom', () => {
    const syncedAt = '2026-11-30T09:30:00.000Z';
    const offline = syncNotice(
      state('member', {
        syncedAt,
        offline: true,
        problem: { code: 'UNAVAILABLE', message: 'down', fault: 'system', retryable: true },
      }),
      'projects',
    );
    expect(offline?.tone).toBe('warning');
    expect(offline?.text).toMatch(/^Offline — showing the organisation's state as of .+\.$/);
    expect(offline?.text).toContain(new Date(syncedAt).getFullYear().toString());
    const never = syncNotice(
      state('member', {
        source: 'local',
        offline: true,
        problem: { code: 'UNAVAILABLE', message: 'down', fault: 'system', retryable: true },
      }),
      'projects',
    );
    expect(never?.text).toMatch(/never synced to this machine/);
    expect(syncNotice(state('viewer'), 'projects')).toEqual({
      tone: 'info',
      text: 'Shared with Acme: you are a viewer.',
    });
    expect(syncNotice(null, 'projects')).toBeNull();
  });
});

/**
 * The same over the real engine (memory transport, dispatcher, handlers) and a real
 * organisation server: a viewer's Projects screen state.
 */
describe('the Projects screen’s store in team sync mode against a real organisation server', () => {
  let server: TeamTestServer;
  let orgId: string;
  const cleanups: (() => void)[] = [];

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', {
      'vic@acme.test': 'viewer',
      'mia@acme.test': 'member',
    }));
    await server.publish('owner@acme.test', orgId, '/projects', {
      name: 'Shop',
      firebaseProjectId: 'shop-prod',
    });
  });
  afterAll(async () => {
    for (const c of cleanups) c();
    await server?.close();
  });

  /** A member's app (its runtime) and its renderer's store over it. */
  const appOf = async (email: string, keyring = new Keyring(MasterKey.generate())) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-sync-store-'));
    await signedInSecrets(dir, await server.signIn(email, orgId));
    const runtime: Runtime = createRuntime({ env: { FIREBACKUP_HOME: dir }, keyring });
    const { store, stop } = await rendererStore(runtime, keyring, dir);
    cleanups.push(() => {
      stop();
      runtime.close();
    });
    return { store, runtime, keyring, dir };
  };
  const storeOf = async (email: string, keyring?: Keyring): Promise<AppStore> =>
    (await appOf(email, keyring)).store;

  it("a viewer sees the organisation's projects, no write action, and the offline banner when the server is down", async () => {
    const store = await storeOf('vic@acme.test');
    const s = () => store.getState();
    await s().projects.load();
    await s().sync.load();
    expect(s().projects.list.value.map((p) => p.name)).toEqual(['Shop']);
    const online = s().sync.state.value;
    expect(online).toMatchObject({ mode: 'server', organization: { role: 'viewer' } });
    for (const action of WRITES) expect(canOnScreen(online, action)).toBe(false);
    expect(syncNotice(online, 'projects')?.tone).toBe('info');

    await server.down();
    try {
      await s().projects.load();
      await s().sync.load();
      expect(s().projects.list.error).toBeNull();
      expect(s().projects.list.value.map((p) => p.name)).toEqual(['Shop']);
      const offline = s().sync.state.value;
      expect(offline?.organization?.role).toBe('viewer');
      expect(syncNotice(offline, 'projects')?.text).toMatch(
        /^Offline — showing the organisation's state as of /,
      );
      for (const action of WRITES) expect(canOnScreen(offline, action)).toBe(false);
    } finally {
      await server.up();
    }
  });

  it("the Dashboard: the organisation's project with its marker and the organisation's name; offline the cached rows and the banner", async () => {
    const store = await storeOf('vic@acme.test');
    const s = () => store.getState();
    await s().dashboard.load();
    await s().sync.load();
    expect(s().dashboard.overview.error).toBeNull();
    const shop = s().dashboard.overview.value.projects.find((p) => p.name === 'Shop');
    expect(shop?.origin?.where).toBe('server');
    expect(originNote(shop?.origin)).toBe('Not set up on this machine');
    const online = s().sync.state.value;
    expect(orgTitle(online, 'Projects', (org) => `Projects of ${org}`)).toBe('Projects of Acme');
    expect(canOnScreen(online, 'backups:create')).toBe(false);

    await server.down();
    try {
      await s().dashboard.load();
      await s().sync.load();
      expect(s().dashboard.overview.error).toBeNull();
      expect(s().dashboard.overview.value.projects.map((p) => p.name)).toEqual(['Shop']);
      expect(syncNotice(s().sync.state.value, 'projects')?.text).toMatch(
        /^Offline — showing the organisation's state as of /,
      );
    } finally {
      await server.up();
    }
  });

  it("another member's backup: opened from the server's metadata with what restoring it needs; once its destination is set up here, read from it like any backup", async () => {
    // The owner's machine made a backup into a folder and reported it (as its sync
    // writer does): the archive and the key stay with the owner.
    const key = MasterKey.generate();
    const folder = await mkdtemp(path.join(tmpdir(), 'fb-sync-shared-folder-'));
    const { id: backupId } = await craftBackup(new LocalBackend(folder), key, sampleDocuments(6), {
      project: 'crafted-app',
      directory: true,
    });
    const post = async (route: string, body: unknown) =>
      (await server.publish('owner@acme.test', orgId, route, body)).id;
    const projectId = await post('/projects', {
      name: 'Crafted',
      firebaseProjectId: 'crafted-app',
    });
    const destinationId = await post('/destinations', { name: 'Owner folder', url: folder });
    await post('/runs', {
      projectId,
      destinationId,
      status: 'finished',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      documentCount: 6,
      bytes: 1000,
      backupId,
    });
    await post('/backups', { projectId, keyId: key.id, sizeBytes: 1000, documentCount: 6 });

    // A member who has the key (given by the owner) but not the destination.
    const store = await storeOf('mia@acme.test', new Keyring(key));
    const s = () => store.getState();
    await s().backups.load();
    const row = s().backups.rows.value.find((r) => r.id === backupId)!;
    expect(row).toMatchObject({ destinationId, origin: { where: 'server' } });
    await s().backups.select({ destinationId, backupId, shared: true });
    expect(s().backups.shared.error).toBeNull();
    expect(s().backups.detail.value).toBeNull();
    expect(s().backups.shared.value).toMatchObject({
      id: backupId,
      keyId: key.id,
      keyHeld: true,
      here: null,
      destination: { url: folder },
      recordedBy: 'owner@acme.test',
    });
    expect(s().backups.shared.value!.needs).toEqual([
      expect.stringContaining(`Add the destination ${folder} with its credentials`),
    ]);

    // The same folder set up here: the row names it, and "Read it from …" opens the
    // backup from the archive (the usual detail: manifest, counts, key) and its browser.
    await s().destinations.add({ name: 'Same folder', url: folder, options: {} });
    await s().backups.load();
    const mine = s().backups.rows.value.find((r) => r.id === backupId)!;
    expect(mine.destinationId).not.toBe(destinationId);
    await s().backups.select({ destinationId: mine.destinationId, backupId, shared: true });
    expect(s().backups.shared.value?.here).toMatchObject({ name: 'Same folder' });
    expect(s().backups.shared.value?.needs).toEqual([]);
    await s().backups.readHere(mine.destinationId);
    expect(s().backups.actionError).toBeNull();
    expect(s().backups.selected).toEqual({ destinationId: mine.destinationId, backupId });
    expect(s().backups.detail.error).toBeNull();
    expect(s().backups.detail.value).toMatchObject({
      id: backupId,
      project: 'crafted-app',
      keyId: key.id,
      counts: { 'firestore.documents': 6 },
    });
  });

  it('a destination added elsewhere (another window, through the contract) updates the Backups list and the open shared backup: “Read it from …” appears without a refresh', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'fb-sync-later-folder-'));
    const post = async (route: string, body: unknown) =>
      (await server.publish('owner@acme.test', orgId, route, body)).id;
    const projectId = await post('/projects', { name: 'Later', firebaseProjectId: 'later-app' });
    const destinationId = await post('/destinations', { name: 'Later folder', url: folder });
    const backupId = 'bkp_20261130T140000000Z_4444dddd';
    await post('/backups', { projectId, backupId, destinationId, sizeBytes: 10, keyId: 'k1' });

    const mia = await appOf('mia@acme.test');
    const s = () => mia.store.getState();
    await s().backups.load();
    expect(s().backups.rows.value.find((r) => r.id === backupId)).toMatchObject({
      destinationId,
    });
    await s().backups.select({ destinationId, backupId, shared: true });
    expect(s().backups.shared.value?.here).toBeNull();

    // A second window of the same app adds the destination (the contract's destinations.add).
    const { store: other, stop } = await rendererStore(mia.runtime, mia.keyring, mia.dir);
    cleanups.push(stop);
    await other.getState().destinations.add({ name: 'Mine too', url: folder, options: {} });
    const local = mia.runtime.catalog.destinations.findByUrl(folder)!;
    await until(
      mia.store,
      () =>
        s().backups.shared.value?.here?.destinationId === local.id &&
        s().backups.rows.value.find((r) => r.id === backupId)?.destinationId === local.id,
      15_000,
    );
    expect(s().backups.shared.value?.here).toEqual({ destinationId: local.id, name: 'Mine too' });
    expect(s().backups.selected).toMatchObject({ backupId, shared: true });
  });
});
