import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileSecretStore } from '../../src/engine/secrets/secret-store.js';
import { TeamClient } from '../../src/engine/team/client.js';
import { TeamLocalStore, teamStorePath } from '../../src/engine/team/local-store.js';
import { TeamService } from '../../src/engine/team/service.js';
import { killedAfterFirstLine, signedInSecrets, TeamTestServer } from '../helpers/team-server.js';

/**
 * Offline reading (the sync cache) and the offline queue with idempotency keys, against a
 * real organisation server that the tests stop and start again.
 */
describe('team sync: cache and offline queue', () => {
  let server: TeamTestServer;
  let orgId: string;
  let projectId: string;

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', { 'vic@acme.test': 'viewer' }));
    const owner = await server.app.login('owner@acme.test');
    const res = await server.app.call(owner, 'POST', `/api/v1/organizations/${orgId}/projects`, {
      name: 'Prod',
      firebaseProjectId: 'acme-prod',
    });
    projectId = res.json<{ id: string }>().id;
  });
  afterAll(() => server?.close());

  const member = async (email: string, fetchImpl?: typeof fetch) => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-team-sync-'));
    const secrets = await signedInSecrets(home, await server.signIn(email, orgId));
    return { home, secrets, service: open(home, secrets, fetchImpl) };
  };
  const open = (home: string, secrets: FileSecretStore, fetchImpl?: typeof fetch) =>
    new TeamService(
      new TeamClient({ secrets, ...(fetchImpl ? { fetch: fetchImpl } : {}) }),
      TeamLocalStore.open(teamStorePath(home)),
    );
  /** The backup records on the server, read directly (not through the app). */
  const recordsOnServer = async (sizeBytes: number) => {
    const rows = await server.db.withOrg(orgId, (tx) =>
      tx.query<{ id: string }>('SELECT id FROM backups WHERE size_bytes = $1', [sizeBytes]),
    );
    return rows.length;
  };

  it('shows the last known lists with their age and the role when the server is unreachable', async () => {
    const { service } = await member('vic@acme.test');
    // A second app of the same member that never synced anything.
    const { service: fresh } = await member('vic@acme.test');
    const synced = await service.sync();
    expect(synced.lists).toMatchObject({ projects: null, members: null, backups: null });
    const live = await service.list('projects');
    expect(live).toMatchObject({ offline: false, available: true });
    expect(live.items).toEqual([expect.objectContaining({ id: projectId, name: 'Prod' })]);

    await server.down();
    try {
      const cached = await service.list('projects');
      expect(cached.offline).toBe(true);
      expect(cached.items).toEqual(live.items);
      expect(cached.syncedAt).toBe(live.syncedAt);
      expect(cached.problem).toMatchObject({ code: 'UNAVAILABLE' });
      const members = await service.list('members');
      expect(members.items.map((m) => m.email).sort()).toEqual([
        'owner@acme.test',
        'vic@acme.test',
      ]);
      const status = await service.status();
      expect(status).toMatchObject({
        signedIn: true,
        offline: true,
        organization: { id: orgId, role: 'viewer' },
        problem: { code: 'UNAVAILABLE' },
      });
      expect(status.lastSyncAt).not.toBeNull();
      // A list never synced here: the network error, saying nothing is cached.
      await expect(fresh.list('schedules')).rejects.toMatchObject({
        code: 'UNAVAILABLE',
        message: expect.stringMatching(/Nothing of this organisation's schedules was synced/),
      });
    } finally {
      await server.up();
    }
  });

  it('a list longer than one page is cached whole (every page followed)', async () => {
    await server.db.withOrg(orgId, (tx) =>
      tx.query(
        `INSERT INTO backups (id, organisation_id, project_id, created_by, size_bytes)
         SELECT 'bkp_page_' || g, $1, $2, 'seed', 9000 FROM generate_series(1, 230) g`,
        [orgId, projectId],
      ),
    );
    const { service } = await member('vic@acme.test');
    const listed = await service.list('backups');
    const paged = listed.items.filter((b) => String(b.id).startsWith('bkp_page_'));
    expect(paged).toHaveLength(230);
    expect(new Set(paged.map((b) => b.id)).size).toBe(230);
  });

  it('lists this server does not offer yet are reported as unavailable, not as errors', async () => {
    const { service } = await member('vic@acme.test');
    const runs = await service.list('runs');
    // Until the shared catalog routes exist on the server, `runs` is simply not offered.
    if (!runs.available) expect(runs.items).toEqual([]);
    else expect(Array.isArray(runs.items)).toBe(true);
  });

  it('queued while the server is down, the client killed and started again: delivered once', async () => {
    const { home, secrets } = await member('owner@acme.test');
    await server.down();
    try {
      expect(
        await killedAfterFirstLine('test/team/fixtures/enqueue-and-wait.ts', [home, projectId]),
      ).toMatchObject({ queued: true, reason: { code: 'UNAVAILABLE' } });
    } finally {
      await server.up();
    }
    expect(await recordsOnServer(4242)).toBe(0);

    // The client starts again (a new process would do exactly this): the action is there.
    const service = open(home, secrets);
    const queued = service.queue();
    expect(queued).toEqual([
      expect.objectContaining({ action: 'backups.record', state: 'pending', attempts: 1 }),
    ]);
    expect(queued[0]!.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    expect(await service.deliver()).toEqual({ delivered: 1, remaining: 0 });
    expect(await recordsOnServer(4242)).toBe(1);
    // Delivering again sends nothing more.
    expect(await service.deliver()).toEqual({ delivered: 0, remaining: 0 });
    expect(await recordsOnServer(4242)).toBe(1);
  });

  it('a delivery whose answer was lost is sent again with the same key: still one record', async () => {
    const keysSent: string[] = [];
    let loseNext = true;
    // The network, not the server, fails: the request reaches the server and is applied,
    // then the answer never arrives (a dropped connection after the server committed).
    const lossyFetch: typeof fetch = async (input, init) => {
      const key = new Headers(init?.headers).get('idempotency-key');
      if (key !== null) keysSent.push(key);
      const response = await fetch(input, init);
      if (key !== null && loseNext) {
        loseNext = false;
        await response.arrayBuffer();
        throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
      }
      return response;
    };
    const { service } = await member('owner@acme.test', lossyFetch);
    const first = await service.submit('backups.record', 'POST', '/backups', {
      projectId,
      sizeBytes: 5151,
    });
    expect(first).toMatchObject({ queued: true, reason: { code: 'UNAVAILABLE' } });
    expect(await recordsOnServer(5151)).toBe(1); // the server did apply it
    expect(await service.deliver()).toEqual({ delivered: 1, remaining: 0 });
    expect(keysSent).toHaveLength(2);
    expect(keysSent[1]).toBe(keysSent[0]);
    expect(await recordsOnServer(5151)).toBe(1);
  });

  it('actions keep their order, and one the server refuses for good does not block the rest', async () => {
    const { service } = await member('owner@acme.test');
    await server.down();
    try {
      const a = await service.submit('backups.record', 'POST', '/backups', {
        projectId,
        sizeBytes: 6001,
      });
      const bad = await service.submit('backups.record', 'POST', '/backups', {
        projectId: 'prj_missing',
        sizeBytes: 6002,
      });
      const c = await service.submit('backups.record', 'POST', '/backups', {
        projectId,
        sizeBytes: 6003,
      });
      expect([a.queued, bad.queued, c.queued]).toEqual([true, true, true]);
      expect((await service.status()).queue).toEqual({ pending: 3, failed: 0 });
    } finally {
      await server.up();
    }
    expect(await service.deliver()).toEqual({ delivered: 2, remaining: 0 });
    const left = service.queue();
    expect(left).toEqual([
      expect.objectContaining({
        state: 'failed',
        lastError: expect.objectContaining({ code: 'NOT_FOUND' }),
      }),
    ]);
    const rows = await server.db.withOrg(orgId, (tx) =>
      tx.query<{ size_bytes: string }>(
        'SELECT size_bytes::text FROM backups WHERE size_bytes IN (6001, 6003) ORDER BY created_at',
      ),
    );
    expect(rows.map((r) => r.size_bytes)).toEqual(['6001', '6003']);
    expect(service.discard(left[0]!.seq)).toBe(true);
    expect(service.queue()).toEqual([]);
  });

  it('online, a refused action is reported at once (a viewer may not add a project) and not queued', async () => {
    const { service } = await member('vic@acme.test');
    await expect(
      service.submit('projects.create', 'POST', '/projects', {
        name: 'Nope',
        firebaseProjectId: 'acme-nope',
      }),
    ).rejects.toMatchObject({
      code: 'PERMISSION_DENIED',
      message: expect.stringMatching(/viewer/),
    });
    expect(service.queue()).toEqual([]);
  });
});
