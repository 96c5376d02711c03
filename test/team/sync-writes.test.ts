import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { backupJob } from '../../src/engine/jobs/specs.js';
import { createApiHandlers } from '../../src/engine/api/handlers.js';
import { createDispatcher } from '../../src/shared/api/dispatch.js';
import { okValue } from '../helpers/api-result.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { seedDocuments, testProject } from '../helpers/firestore-seed.js';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { secretName } from '../../src/engine/secrets/secret-store.js';
import { teamStorePath } from '../../src/engine/team/local-store.js';
import { AppError } from '../../src/shared/errors.js';
import { runCli } from '../helpers/run-cli.js';
import { killedAfterFirstLine, signedInSecrets, TeamTestServer } from '../helpers/team-server.js';
import { catalogWrite, stubBackup, WRITE_KINDS } from './fixtures/catalog-writes.js';

/**
 * The write side of team sync mode: every change the engine makes to the shared state
 * (projects, destinations, schedules, backup runs and their backup records) is mirrored
 * to a real organisation server through the offline queue, and the server's role check
 * decides whether a backup may run.
 */
describe('team sync: writes mirrored through the offline queue', () => {
  let server: TeamTestServer;
  let orgId: string;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    server = await TeamTestServer.start();
    ({ orgId } = await server.organisation('owner@acme.test', {
      'mia@acme.test': 'member',
      'vic@acme.test': 'viewer',
    }));
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) {
      await r.sync.settled();
      r.close();
    }
  });
  afterAll(() => server?.close());

  /** A member's app: a runtime over its own data folder, signed in to the organisation. */
  const app = async (email: string | null, fetchImpl?: typeof fetch) => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-writes-'));
    const secrets = await signedInSecrets(
      home,
      email === null ? await server.signIn('owner@acme.test') : await server.signIn(email, orgId),
    );
    const runtime = createRuntime({
      catalogFile: path.join(home, 'catalog.sqlite'),
      env: { FIREBACKUP_HOME: home },
      secrets,
      ...(fetchImpl !== undefined ? { teamFetch: fetchImpl } : {}),
    });
    runtimes.push(runtime);
    await runtime.sync.settled();
    return { home, runtime };
  };

  /** The app started again over `home` (after a kill): it delivers what is queued there. */
  const restarted = async (home: string, secrets: Awaited<ReturnType<typeof signedInSecrets>>) => {
    const runtime = createRuntime({
      catalogFile: path.join(home, 'catalog.sqlite'),
      env: { FIREBACKUP_HOME: home },
      secrets,
    });
    runtimes.push(runtime);
    await runtime.sync.settled();
    await runtime.sync.deliver();
    return runtime;
  };

  /** Rows of a server table of the organisation, read directly (not through the app). */
  const rows = <T extends object = object>(sql: string, params: unknown[] = []) =>
    server.db.withOrg(orgId, (tx) => tx.query<T>(sql, params));
  /** The organisation's audit entries, oldest first (by insertion: linking comes later). */
  const auditEntries = async () =>
    (
      await server.db.system((tx) =>
        tx.query<{ entry: string }>('SELECT entry FROM audit_log WHERE chain = $1 ORDER BY id', [
          orgId,
        ]),
      )
    ).map(
      (e) =>
        JSON.parse(e.entry) as {
          event: string;
          resource: { id: string };
          metadata: { name?: string; paused?: boolean };
        },
    );
  /** The organisation's audit events about one resource, oldest first. */
  const auditOf = async (resourceId: string) =>
    (await auditEntries()).filter((e) => e.resource?.id === resourceId).map((e) => e.event);
  /** Denied calls the server audited (access.denied entries). */
  const denials = async () =>
    (await auditEntries()).filter((e) => e.event === 'access.denied').length;
  const projectAndDestinationOf = async (runtime: Runtime, name: string) => {
    const project = runtime.catalog.projects.upsert({
      name,
      firebaseProjectId: `acme-${name.toLowerCase()}`,
    });
    const destination = runtime.catalog.destinations.upsert({
      name,
      url: `/srv/${name.toLowerCase()}`,
    });
    return { project, destination };
  };
  /** Everything the server database holds, as text (to look for a secret in). */
  const serverDump = () =>
    server.db.system(async (tx) => {
      const tables = await tx.query<{ tablename: string }>(
        `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`,
      );
      let text = '';
      for (const { tablename } of tables) {
        const all = await tx.query(`SELECT row_to_json(t)::text AS j FROM "${tablename}" t`);
        text += all.map((r) => (r as { j: string }).j).join('\n');
      }
      return text;
    });

  it('online: projects, destinations and schedules are created, changed and deleted on the server, audited, and no secret leaves the machine', async () => {
    const { home, runtime } = await app('owner@acme.test');
    const { catalog } = runtime;
    const project = catalog.projects.upsert({ name: 'Shop', firebaseProjectId: 'acme-shop' });
    const destination = catalog.destinations.upsert({
      name: 'Vault',
      url: 's3://acme-vault/shop',
      options: { region: 'eu-west-1' },
    });
    const SECRET = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCY-SECRET';
    await runtime.secrets.set(secretName('s3-secret-key', destination.id), SECRET);
    catalog.destinations.updateOptions(destination.id, { region: 'eu-central-1' });
    const schedule = catalog.schedules.add({
      name: 'nightly',
      projectId: project.id,
      destinationId: destination.id,
      cron: '0 3 * * *',
    });
    catalog.schedules.update(schedule.id, { cron: '0 4 * * *' });
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);

    const [p] = await rows<{ id: string; name: string }>(
      `SELECT id, name FROM projects WHERE firebase_project_id = 'acme-shop'`,
    );
    const [d] = await rows<{ id: string; options: Record<string, unknown> }>(
      `SELECT id, options FROM destinations WHERE name = 'Vault'`,
    );
    const [s] = await rows<{ id: string; cron: string; project_id: string }>(
      `SELECT id, cron, project_id FROM schedules WHERE name = 'nightly'`,
    );
    expect(p).toBeDefined();
    expect(d!.options).toEqual({ region: 'eu-central-1' });
    expect(s).toMatchObject({ cron: '0 4 * * *', project_id: p!.id });

    // A project renamed here is renamed there; deleting the schedule deletes it there.
    catalog.projects.upsert({ name: 'Shop', firebaseProjectId: 'acme-shop-2' });
    catalog.schedules.remove(schedule.id);
    catalog.destinations.remove(destination.id);
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);
    expect(await rows(`SELECT 1 FROM schedules WHERE id = $1`, [s!.id])).toHaveLength(0);
    expect(await rows(`SELECT 1 FROM destinations WHERE id = $1`, [d!.id])).toHaveLength(0);
    expect(
      await rows<{ firebase_project_id: string }>(
        'SELECT firebase_project_id FROM projects WHERE id = $1',
        [p!.id],
      ),
    ).toEqual([{ firebase_project_id: 'acme-shop-2' }]);
    catalog.projects.remove(project.id);
    await runtime.sync.settled();
    expect(await rows(`SELECT 1 FROM projects WHERE id = $1`, [p!.id])).toHaveLength(0);

    expect(await auditOf(p!.id)).toEqual(['project.created', 'project.updated', 'project.deleted']);
    expect(await auditOf(d!.id)).toEqual([
      'destination.created',
      'destination.updated',
      'destination.deleted',
    ]);
    expect(await auditOf(s!.id)).toEqual([
      'schedule.created',
      'schedule.updated',
      'schedule.deleted',
    ]);

    // The destination's secret is in the member's secret store only.
    expect(await runtime.secrets.get(secretName('s3-secret-key', destination.id))).toBe(SECRET);
    expect((await readFile(teamStorePath(home))).includes(Buffer.from(SECRET))).toBe(false);
    expect(await serverDump()).not.toContain(SECRET);
  });

  it('a backup run is reported when it starts and when it ends (status, counts, error code), and its backup is recorded', async () => {
    // A member reports runs of the organisation's project (an admin added it).
    const { runtime: owner } = await app('owner@acme.test');
    await projectAndDestinationOf(owner, 'Runs');
    await owner.sync.settled();
    const { runtime } = await app('mia@acme.test');
    const { project, destination } = await projectAndDestinationOf(runtime, 'Runs');
    const ok = stubBackup(runtime, project.id, destination.id);
    expect((await ok.done).status).toBe('succeeded');
    const failed = stubBackup(runtime, project.id, destination.id, {
      fail: new AppError('UNAVAILABLE', 'Firestore did not answer.'),
    });
    expect((await failed.done).status).toBe('failed');
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);

    const [p] = await rows<{ id: string }>(
      `SELECT id FROM projects WHERE firebase_project_id = 'acme-runs'`,
    );
    const runs = await rows<{
      id: string;
      status: string;
      document_count: string | null;
      bytes: string | null;
      error_code: string | null;
      backup_id: string | null;
    }>(
      `SELECT id, status, document_count::text, bytes::text, error_code, backup_id
         FROM runs WHERE project_id = $1 ORDER BY started_at`,
      [p!.id],
    );
    expect(runs).toEqual([
      expect.objectContaining({
        status: 'finished',
        document_count: '12',
        bytes: '3456',
        error_code: null,
        backup_id: 'bk_20261130',
      }),
      expect.objectContaining({ status: 'failed', error_code: 'UNAVAILABLE' }),
    ]);
    expect(await auditOf(runs[0]!.id)).toEqual(['run.started', 'run.finished']);
    expect(await auditOf(runs[1]!.id)).toEqual(['run.started', 'run.failed']);
    const backups = await rows<{ id: string; size_bytes: string; document_count: string }>(
      `SELECT id, size_bytes::text, document_count::text, key_id, backup_id, sources,
              destination_id, destination_url FROM backups WHERE project_id = $1`,
      [p!.id],
    );
    const [d] = await rows<{ id: string }>(`SELECT id FROM destinations WHERE url = '/srv/runs'`);
    // The key's id (never the key): what another member needs to import to restore it.
    // Its destination by itself (the server's id and the URL), not only through its run.
    expect(backups).toEqual([
      expect.objectContaining({
        size_bytes: '3456',
        document_count: '12',
        key_id: 'k0123456789abcdef',
        backup_id: 'bk_20261130',
        sources: ['firestore', 'auth'],
        destination_id: d!.id,
        destination_url: '/srv/runs',
      }),
    ]);
    expect(await auditOf(backups[0]!.id)).toEqual(['backup.created']);
  });

  it('a backup into a destination the server does not have still records where it lives: its URL (credentials never sent)', async () => {
    const { runtime: owner } = await app('owner@acme.test');
    owner.catalog.projects.upsert({ name: 'Elsewhere', firebaseProjectId: 'acme-elsewhere' });
    await owner.sync.settled();
    // A member may not add destinations to the organisation: this one stays on the machine.
    const { runtime } = await app('mia@acme.test');
    const project = runtime.catalog.projects.upsert({
      name: 'Elsewhere',
      firebaseProjectId: 'acme-elsewhere',
    });
    const destination = runtime.catalog.destinations.upsert({
      name: 'Mine only',
      url: 's3://ada:hunter2@mia-vault/elsewhere',
    });
    const done = await stubBackup(runtime, project.id, destination.id, {
      backupId: 'bk_elsewhere',
    }).done;
    expect(done.status).toBe('succeeded');
    await runtime.sync.settled();
    // The refused destination waits in the queue for the member; the record went.
    expect(runtime.sync.queue().map((i) => i.action)).toEqual(['destinations.create']);
    expect(
      await rows(`SELECT destination_id, destination_url FROM backups WHERE backup_id = $1`, [
        'bk_elsewhere',
      ]),
    ).toEqual([{ destination_id: null, destination_url: 's3://mia-vault/elsewhere' }]);
    expect(await serverDump()).not.toContain('hunter2');
  });

  it("the app's own methods (the contract the desktop and web mode call) are mirrored too", async () => {
    const { runtime } = await app('owner@acme.test');
    const local = { kind: 'local' as const };
    const dispatch = createDispatcher(
      createApiHandlers(runtime, new Keyring(MasterKey.generate())),
    );
    const project = okValue<{ id: string }>(
      await dispatch(
        'projects.add',
        {
          name: 'Contract',
          firebaseProjectId: 'acme-contract',
          connection: { kind: 'emulator', host: '127.0.0.1:1' },
        },
        local,
      ),
    );
    const destination = runtime.catalog.destinations.upsert({ name: 'C', url: '/srv/contract' });
    const { schedule } = okValue<{ schedule: { id: string } }>(
      await dispatch(
        'schedules.create',
        {
          name: 'contract',
          projectId: project.id,
          destinationId: destination.id,
          cron: '0 6 * * *',
        },
        local,
      ),
    );
    okValue(await dispatch('schedules.pause', { id: schedule.id }, local));
    okValue(await dispatch('schedules.remove', { id: schedule.id }, local));
    okValue(await dispatch('projects.remove', { projectId: project.id }, local));
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);
    const events = await auditEntries();
    const created = events.find(
      (e) => e.event === 'schedule.created' && e.metadata.name === 'contract',
    );
    expect(
      events
        .filter((e) => e.resource.id === created!.resource.id)
        .map((e) => [e.event, e.metadata.paused]),
    ).toEqual([
      ['schedule.created', undefined],
      ['schedule.updated', true],
      ['schedule.deleted', undefined],
    ]);
    const projectCreated = events.find(
      (e) => e.event === 'project.created' && e.metadata.name === 'Contract',
    );
    expect(await auditOf(projectCreated!.resource.id)).toEqual([
      'project.created',
      'project.deleted',
    ]);
  });

  it.skipIf(!inject('firestoreEmulatorHost'))(
    'a real backup (Firestore emulator, local folder) is reported and recorded on its own, with its document count',
    async () => {
      const host = inject('firestoreEmulatorHost')!;
      const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-real-'));
      const runtime = createRuntime({
        catalogFile: path.join(home, 'catalog.sqlite'),
        env: { FIREBACKUP_HOME: home },
        secrets: await signedInSecrets(home, await server.signIn('owner@acme.test', orgId)),
        keyring: new Keyring(MasterKey.generate()),
      });
      runtimes.push(runtime);
      const firebaseProjectId = testProject('sync');
      await seedDocuments(host, firebaseProjectId, { count: 40 });
      const project = runtime.catalog.projects.upsert({
        name: 'Real',
        firebaseProjectId,
        emulatorHost: host,
      });
      const destination = runtime.catalog.destinations.upsert({
        name: 'Real',
        url: path.join(home, 'backups'),
      });
      const run = await runtime.jobs.start(backupJob(runtime, { project, destination })).done;
      expect(run.status, JSON.stringify(run.error)).toBe('succeeded');
      await runtime.sync.settled();
      expect(runtime.sync.queue()).toEqual([]);
      const [p] = await rows<{ id: string }>(
        'SELECT id FROM projects WHERE firebase_project_id = $1',
        [firebaseProjectId],
      );
      const [r] = await rows<{ status: string; document_count: string; backup_id: string }>(
        'SELECT status, document_count::text, backup_id FROM runs WHERE project_id = $1',
        [p!.id],
      );
      expect(r).toEqual({ status: 'finished', document_count: '40', backup_id: run.backupId });
      expect(
        await rows('SELECT 1 FROM backups WHERE project_id = $1 AND document_count = 40', [p!.id]),
      ).toHaveLength(1);
    },
  );

  it('offline: a schedule created, edited and deleted is queued and delivered once, in order, when the server is back', async () => {
    const { runtime } = await app('owner@acme.test');
    const { catalog } = runtime;
    await server.down();
    try {
      const project = catalog.projects.upsert({ name: 'Order', firebaseProjectId: 'acme-order' });
      const destination = catalog.destinations.upsert({ name: 'Order', url: '/srv/order' });
      const schedule = catalog.schedules.add({
        name: 'ordered',
        projectId: project.id,
        destinationId: destination.id,
        cron: '0 1 * * *',
      });
      catalog.schedules.update(schedule.id, { cron: '0 2 * * *' });
      catalog.schedules.remove(schedule.id);
      await runtime.sync.settled();
      expect(runtime.sync.queue().map((i) => [i.action, i.state])).toEqual([
        ['projects.create', 'pending'],
        ['destinations.create', 'pending'],
        ['schedules.create', 'pending'],
        ['schedules.update', 'pending'],
        ['schedules.delete', 'pending'],
      ]);
    } finally {
      await server.up();
    }
    expect(await runtime.sync.deliver()).toEqual({ delivered: 5, remaining: 0 });
    expect(await runtime.sync.deliver()).toEqual({ delivered: 0, remaining: 0 });
    expect(await rows(`SELECT 1 FROM schedules WHERE name = 'ordered'`)).toHaveLength(0);
    const created = (await auditEntries()).filter(
      (e) => e.event === 'schedule.created' && e.metadata.name === 'ordered',
    );
    expect(created).toHaveLength(1);
    expect(await auditOf(created[0]!.resource.id)).toEqual([
      'schedule.created',
      'schedule.updated',
      'schedule.deleted',
    ]);
  });

  it.each(WRITE_KINDS)(
    'a lost answer: %s is sent again with the same key and applied once',
    async (kind) => {
      const keysSent: string[] = [];
      let lose = true;
      let lostKey: string | undefined;
      const lossyFetch: typeof fetch = async (input, init) => {
        const key = new Headers(init?.headers).get('idempotency-key');
        const response = await fetch(input, init);
        if (key !== null) keysSent.push(key);
        // The first write of this kind reaches the server and is applied; its answer is lost.
        if (key !== null && lose && String(input).includes(catalogWrite[kind].route)) {
          lose = false;
          lostKey = key;
          await response.arrayBuffer();
          throw new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
        }
        return response;
      };
      const { runtime } = await app('owner@acme.test', lossyFetch);
      const tag = `lost-${kind}`;
      await catalogWrite[kind].write(runtime, tag);
      await runtime.sync.settled();
      expect(lose).toBe(false); // the answer was lost once
      expect(await runtime.sync.deliver()).toMatchObject({ remaining: 0 });
      expect(runtime.sync.queue()).toEqual([]);
      expect(await catalogWrite[kind].onServer(server, orgId, tag)).toBe(1);
      // Sent again with the key it was first sent with (projects and destinations are
      // found on the server by their identity instead, without a second POST).
      if (kind === 'schedule' || kind === 'run')
        expect(keysSent.filter((k) => k === lostKey)).toHaveLength(2);
    },
  );

  it.each(WRITE_KINDS)(
    'written offline, the process SIGKILLed, started again: %s delivered once',
    async (kind) => {
      const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-kill-'));
      const secrets = await signedInSecrets(home, await server.signIn('owner@acme.test', orgId));
      await server.down();
      try {
        expect(
          await killedAfterFirstLine('test/team/fixtures/catalog-write-and-wait.ts', [home, kind]),
        ).toMatchObject({ queued: expect.any(Number) });
      } finally {
        await server.up();
      }
      const tag = `killed-${kind}`;
      expect(await catalogWrite[kind].onServer(server, orgId, tag)).toBe(0);
      // Started again: the runtime delivers what the killed one queued.
      const runtime = await restarted(home, secrets);
      expect(runtime.sync.queue()).toEqual([]);
      expect(await catalogWrite[kind].onServer(server, orgId, tag)).toBe(1);
      expect(await runtime.sync.deliver()).toEqual({ delivered: 0, remaining: 0 });
      expect(await catalogWrite[kind].onServer(server, orgId, tag)).toBe(1);
    },
  );

  it('a backup SIGKILLed while running is reported failed (abandoned) at the next start, exactly once', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-abandoned-'));
    const secrets = await signedInSecrets(home, await server.signIn('owner@acme.test', orgId));
    const killed = (await killedAfterFirstLine('test/team/fixtures/backup-and-hang.ts', [
      home,
      'acme-abandoned',
    ])) as { runId: string; queued: number };
    // The server had its start before the kill; nothing else was queued.
    expect(killed.queued).toBe(0);
    const serverRuns = () =>
      rows<{ id: string; status: string; error_code: string | null }>(
        `SELECT r.id, r.status, r.error_code FROM runs r JOIN projects p ON p.id = r.project_id
          WHERE p.firebase_project_id = 'acme-abandoned'`,
      );
    expect(await serverRuns()).toEqual([expect.objectContaining({ status: 'started' })]);

    const runtime = await restarted(home, secrets);
    expect(runtime.catalog.runs.get(killed.runId)).toMatchObject({
      status: 'failed',
      error: { code: 'ABORTED' },
    });
    expect(runtime.sync.queue()).toEqual([]);
    const [run] = await serverRuns();
    expect(run).toEqual(expect.objectContaining({ status: 'failed', error_code: 'ABORTED' }));
    // Started again: the correction is not sent a second time.
    runtimes.splice(runtimes.indexOf(runtime), 1);
    await runtime.sync.settled();
    runtime.close();
    const again = await restarted(home, secrets);
    expect(again.sync.queue()).toEqual([]);
    expect(await serverRuns()).toHaveLength(1);
    expect(await auditOf(run!.id)).toEqual(['run.started', 'run.failed']);
  });

  it('a viewer cannot start a backup: the server refuses (and audits the denial), the backup never runs; offline the last known role decides', async () => {
    // The owner shares the project and the destination; the viewer's app finds them there.
    const { runtime: owner } = await app('owner@acme.test');
    await projectAndDestinationOf(owner, 'Guarded');
    await owner.sync.settled();
    const { runtime } = await app('vic@acme.test');
    const { project, destination } = await projectAndDestinationOf(runtime, 'Guarded');
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);

    const before = await denials();
    const attempt = stubBackup(runtime, project.id, destination.id);
    const run = await attempt.done;
    expect(attempt.ran()).toBe(false);
    expect(run).toMatchObject({
      status: 'failed',
      error: { code: 'PERMISSION_DENIED', message: expect.stringMatching(/refused.*viewer/s) },
    });
    expect(await denials()).toBe(before + 1);
    await runtime.sync.settled();
    expect(runtime.sync.queue()).toEqual([]);

    await server.down();
    try {
      const offline = stubBackup(runtime, project.id, destination.id);
      const r = await offline.done;
      expect(offline.ran()).toBe(false);
      expect(r.error).toMatchObject({
        code: 'PERMISSION_DENIED',
        message: expect.stringMatching(/last known role there \(viewer\)/),
      });
      await runtime.sync.settled();
      expect(runtime.sync.queue()).toEqual([]);
    } finally {
      await server.up();
    }
  });

  it('an action the server refuses later stays in the queue, failed, with its message; the rest goes on', async () => {
    // A member may not add projects (owners and admins do): offline, the app cannot know.
    const { runtime, home } = await app('mia@acme.test');
    await server.down();
    try {
      runtime.catalog.projects.upsert({ name: 'Mine', firebaseProjectId: 'acme-mine' });
      await runtime.sync.settled();
    } finally {
      await server.up();
    }
    expect(await runtime.sync.deliver()).toEqual({ delivered: 0, remaining: 0 });
    expect(runtime.sync.queue()).toEqual([
      expect.objectContaining({
        action: 'projects.create',
        state: 'failed',
        lastError: expect.objectContaining({
          code: 'PERMISSION_DENIED',
          message: expect.stringMatching(/member/),
        }),
      }),
    ]);
    expect(await rows(`SELECT 1 FROM projects WHERE firebase_project_id = 'acme-mine'`)).toEqual(
      [],
    );

    // The CLI shows it, sends it again on request (refused again), and drops it.
    const env = { FIREBACKUP_HOME: home };
    const listed = await runCli(['queue', '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const [item] = listed.json<{ items: Array<{ seq: number; state: string }> }>().items;
    expect(item).toMatchObject({ state: 'failed' });
    const human = await runCli(['queue'], env);
    expect(human.stdout).toMatch(/failed\s+projects\.create.*PERMISSION_DENIED/);
    const retried = await runCli(['queue', 'retry', String(item!.seq)], env);
    expect(retried.code, retried.stderr).toBe(0);
    expect(runtime.sync.queue()).toEqual([
      expect.objectContaining({ state: 'failed', attempts: 3 }),
    ]);
    expect((await runCli(['queue', 'discard', String(item!.seq)], env)).code).toBe(0);
    expect(runtime.sync.queue()).toEqual([]);
    const unknown = await runCli(['queue', 'discard', String(item!.seq)], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/firebackup queue/);
  });

  it('offline, a member runs a backup: it runs, and its start, end and record are delivered once the server is back', async () => {
    const { runtime: owner } = await app('owner@acme.test');
    await projectAndDestinationOf(owner, 'Later');
    await owner.sync.settled();
    const { runtime } = await app('mia@acme.test');
    const { project, destination } = await projectAndDestinationOf(runtime, 'Later');
    await runtime.sync.settled();
    await server.down();
    let done;
    try {
      const attempt = stubBackup(runtime, project.id, destination.id, { backupId: 'bk_later' });
      done = await attempt.done;
      expect(attempt.ran()).toBe(true);
      await runtime.sync.settled();
      expect(runtime.sync.queue().map((i) => i.action)).toEqual([
        'runs.start',
        'runs.finish',
        'backups.record',
      ]);
    } finally {
      await server.up();
    }
    expect(done.status).toBe('succeeded');
    expect(await runtime.sync.deliver()).toEqual({ delivered: 3, remaining: 0 });
    const [r] = await rows<{ id: string; status: string }>(
      `SELECT id, status FROM runs WHERE backup_id = 'bk_later'`,
    );
    expect(r!.status).toBe('finished');
    expect(await auditOf(r!.id)).toEqual(['run.started', 'run.finished']);
  });

  it('outside sync mode nothing is queued and no team file is made', async () => {
    const home = await mkdtemp(path.join(tmpdir(), 'fb-sync-off-'));
    const runtime = createRuntime({
      catalogFile: path.join(home, 'catalog.sqlite'),
      env: { FIREBACKUP_HOME: home },
    });
    runtimes.push(runtime);
    runtime.catalog.projects.upsert({ name: 'Solo', firebaseProjectId: 'acme-solo' });
    await runtime.sync.settled();
    expect(existsSync(teamStorePath(home))).toBe(false);
    expect(await rows(`SELECT 1 FROM projects WHERE firebase_project_id = 'acme-solo'`)).toEqual(
      [],
    );
  });
});
