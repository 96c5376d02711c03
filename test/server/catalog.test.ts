import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startTestServerOn,
  unavailable,
  type Backend,
  type Session,
  type TestServer,
} from './harness.js';

/**
 * The shared catalog (issue #9): destinations (non-secret options only), schedules and
 * runs next to projects and backups, the same for every member, every write checked and
 * audited; and keyset pagination of the list routes. The route × role matrix covers who
 * may call what (test/server/matrix.test.ts); this file checks what the routes do.
 */
function catalogSuite(backend: Backend): void {
  let server: TestServer;
  let owner: Session;
  let member: Session;
  let viewer: Session;
  let orgId: string;
  let otherOrgId: string;
  let url: string;
  let projectId: string;
  let people = 0;

  beforeAll(async () => {
    server = await startTestServerOn(backend);
    owner = await server.login('owner@acme.test');
    orgId = await server.createOrg(owner);
    url = `/api/v1/organizations/${orgId}`;
    member = await server.login('member@acme.test');
    await server.addMember(orgId, member.userId, 'member');
    viewer = await server.login('viewer@acme.test');
    await server.addMember(orgId, viewer.userId, 'viewer');
    const stranger = await server.login('owner@other.test');
    otherOrgId = await server.createOrg(stranger, 'Other');
    projectId = (
      await server.call(owner, 'POST', `${url}/projects`, {
        name: 'Main',
        firebaseProjectId: 'acme-main',
      })
    ).json<{ id: string }>().id;
  });
  afterAll(async () => {
    await server.close();
  });

  const events = async (event: string) =>
    (await server.call(owner, 'GET', `${url}/audit?event=${event}`)).json<{
      entries: Array<{ event: string; actor: { id: string }; resource: { id: string } }>;
    }>().entries;

  async function destination(name = `d${++people}`): Promise<string> {
    const res = await server.call(owner, 'POST', `${url}/destinations`, {
      name,
      url: `s3://acme-backups/${name}`,
      options: { region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json<{ id: string }>().id;
  }

  describe('destinations', () => {
    it('an admin adds one; every member sees the same, kind and non-secret options only (audited)', async () => {
      const res = await server.call(owner, 'POST', `${url}/destinations`, {
        name: 'Offsite',
        url: 's3://acme-offsite/prod',
        options: { region: 'eu-west-1', endpoint: 'https://s3.example.com', forcePathStyle: true },
      });
      expect(res.statusCode, res.body).toBe(201);
      const created = res.json<{ id: string }>();
      expect(created).toMatchObject({
        name: 'Offsite',
        url: 's3://acme-offsite/prod',
        kind: 's3',
        bucket: 'acme-offsite',
        prefix: 'prod',
        options: { region: 'eu-west-1', endpoint: 'https://s3.example.com', forcePathStyle: true },
      });
      const seen = await server.call(viewer, 'GET', `${url}/destinations`);
      expect(seen.statusCode).toBe(200);
      expect(seen.json<{ destinations: Array<{ id: string }> }>().destinations).toContainEqual(
        expect.objectContaining({ id: created.id, kind: 's3', bucket: 'acme-offsite' }),
      );
      const one = await server.call(member, 'GET', `${url}/destinations/${created.id}`);
      expect(one.json()).toMatchObject({ id: created.id, name: 'Offsite' });
      const audit = await events('destination.created');
      expect(audit.map((e) => e.resource.id)).toContain(created.id);
    });

    it('a folder and a gs:// destination have their own kind', async () => {
      const folder = await server.call(owner, 'POST', `${url}/destinations`, {
        name: 'NAS',
        url: '/mnt/nas/firebackup',
      });
      expect(folder.json()).toMatchObject({ kind: 'local', folder: '/mnt/nas/firebackup' });
      const gs = await server.call(owner, 'POST', `${url}/destinations`, {
        name: 'GCS',
        url: 'gs://acme-gcs/backups/prod',
        options: { projectId: 'acme-prod' },
      });
      expect(gs.json()).toMatchObject({ kind: 'gs', bucket: 'acme-gcs', prefix: 'backups/prod' });
    });

    it.each([
      ['a secret option', { options: { secretAccessKey: 'wJalrXUtnFEMI' } }, /secretAccessKey/],
      ['an access key id', { options: { accessKeyId: 'AKIAEXAMPLE' } }, /accessKeyId/],
      ['a session token', { options: { sessionToken: 'x' } }, /sessionToken/],
      ['a secret at the top level', { secretAccessKey: 'wJalrXUtnFEMI' }, /secretAccessKey/],
      ['credentials in the URL', { url: 's3://AKIA:wJalr@acme/x' }, /credentials in the URL/],
      [
        'a GCS key as JSON',
        { url: 'gs://acme/x', options: { credentialsJson: '{}' } },
        /credentialsJson/,
      ],
    ])(
      'refuses a body carrying %s, saying secrets stay on members’ machines',
      async (_, extra, field) => {
        const res = await server.call(owner, 'POST', `${url}/destinations`, {
          name: `secret${++people}`,
          url: 's3://acme/x',
          ...extra,
        });
        expect(res.statusCode, res.body).toBe(400);
        const message = res.json<{ error: { message: string } }>().error.message;
        expect(message).toMatch(field);
        expect(message).toMatch(/never stores secrets/);
        // The secret itself is not echoed back.
        expect(message).not.toMatch(/wJalr/);
        const listed = await server.call(owner, 'GET', `${url}/destinations`);
        expect(listed.body).not.toMatch(/wJalr|AKIA/);
      },
    );

    it('refuses an unknown kind, a relative folder and options the kind does not have', async () => {
      for (const [body, message] of [
        [{ url: 'ftp://x/y' }, /Unknown destination scheme/],
        [{ url: 'backups/here' }, /full path/],
        [{ url: 's3://acme/x', options: { partSizeMiB: 1 } }, /partSizeMiB/],
        [{ url: '/srv/backups', options: { region: 'x' } }, /folder takes no options/],
      ] as const) {
        const res = await server.call(owner, 'POST', `${url}/destinations`, {
          name: `bad${++people}`,
          ...body,
        });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json().error.message).toMatch(message);
      }
    });

    it('updates options and name, refuses secrets there too; deletes one no schedule uses', async () => {
      const id = await destination();
      const patched = await server.call(owner, 'PATCH', `${url}/destinations/${id}`, {
        name: 'Renamed',
        options: { region: 'us-east-2' },
      });
      expect(patched.statusCode, patched.body).toBe(200);
      expect(patched.json()).toMatchObject({ name: 'Renamed', options: { region: 'us-east-2' } });
      const secret = await server.call(owner, 'PATCH', `${url}/destinations/${id}`, {
        options: { secretAccessKey: 'shh' },
      });
      expect(secret.statusCode).toBe(400);
      expect((await events('destination.updated')).map((e) => e.resource.id)).toContain(id);
      expect((await server.call(owner, 'DELETE', `${url}/destinations/${id}`)).statusCode).toBe(
        204,
      );
      expect((await server.call(owner, 'GET', `${url}/destinations/${id}`)).statusCode).toBe(404);
      expect((await events('destination.deleted')).map((e) => e.resource.id)).toContain(id);
    });

    it('a name is unique in the organisation (409)', async () => {
      const name = `dup${++people}`;
      await destination(name);
      const again = await server.call(owner, 'POST', `${url}/destinations`, {
        name,
        url: '/srv/other',
      });
      expect(again.statusCode).toBe(409);
      expect(again.json().error.message).toMatch(/already/);
    });

    it("another organisation's destination answers 404", async () => {
      const id = await destination();
      const stranger = await server.login('owner@other.test');
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const res = await server.call(
          stranger,
          method,
          `/api/v1/organizations/${otherOrgId}/destinations/${id}`,
          method === 'PATCH' ? { name: 'mine now' } : undefined,
        );
        expect(res.statusCode, `${method} ${res.body}`).toBe(404);
      }
      expect((await server.call(owner, 'GET', `${url}/destinations/${id}`)).statusCode).toBe(200);
    });
  });

  describe('schedules', () => {
    const body = (destinationId: string, extra: object = {}) => ({
      name: `nightly${++people}`,
      projectId,
      destinationId,
      cron: '0 3 * * *',
      timeZone: 'Europe/Paris',
      scope: { collections: ['users', 'orders'] },
      retention: { keepDaily: 7, keepWeekly: 4 },
      ...extra,
    });

    it('a member creates one with the engine’s schedule fields; all see it; pausing and deleting are audited', async () => {
      const destinationId = await destination();
      const res = await server.call(member, 'POST', `${url}/schedules`, body(destinationId));
      expect(res.statusCode, res.body).toBe(201);
      const schedule = res.json<{ id: string }>();
      expect(schedule).toMatchObject({
        projectId,
        destinationId,
        cron: '0 3 * * *',
        timeZone: 'Europe/Paris',
        scope: { collections: ['users', 'orders'] },
        retention: { keepDaily: 7, keepWeekly: 4 },
        kind: 'backup',
        enabled: true,
        paused: false,
      });
      const listed = (await server.call(viewer, 'GET', `${url}/schedules`)).json<{
        schedules: Array<{ id: string }>;
      }>().schedules;
      expect(listed.map((s) => s.id)).toContain(schedule.id);
      const paused = await server.call(member, 'PATCH', `${url}/schedules/${schedule.id}`, {
        paused: true,
      });
      expect(paused.statusCode, paused.body).toBe(200);
      expect(paused.json()).toMatchObject({ paused: true, enabled: false, cron: '0 3 * * *' });
      const moved = await server.call(member, 'PATCH', `${url}/schedules/${schedule.id}`, {
        cron: '30 1 * * 1',
        timeZone: 'UTC',
      });
      expect(moved.json()).toMatchObject({ cron: '30 1 * * 1', timeZone: 'UTC', paused: true });
      expect(
        (await server.call(member, 'DELETE', `${url}/schedules/${schedule.id}`)).statusCode,
      ).toBe(204);
      for (const event of ['schedule.created', 'schedule.updated', 'schedule.deleted'])
        expect((await events(event)).map((e) => e.resource.id)).toContain(schedule.id);
      const update = (await events('schedule.updated'))[1]!;
      expect(update.actor.id).toBe(member.userId);
    });

    it('refuses a bad cron, an unknown time zone, and secret-looking scope with the shared schema’s messages', async () => {
      const destinationId = await destination();
      const cron = await server.call(
        member,
        'POST',
        `${url}/schedules`,
        body(destinationId, { cron: 'every night' }),
      );
      expect(cron.statusCode).toBe(400);
      expect(cron.json().error.message).toMatch(/cron expression has 5 fields/);
      const tz = await server.call(
        member,
        'POST',
        `${url}/schedules`,
        body(destinationId, { timeZone: 'Mars/Olympus' }),
      );
      expect(tz.statusCode).toBe(400);
      expect(tz.json().error.message).toMatch(/IANA time zone/);
    });

    it("refuses another organisation's project or destination as not found (404)", async () => {
      const stranger = await server.login('owner@other.test');
      const other = `/api/v1/organizations/${otherOrgId}`;
      const theirDestination = (
        await server.call(stranger, 'POST', `${other}/destinations`, {
          name: 'theirs',
          url: '/srv/theirs',
        })
      ).json<{ id: string }>().id;
      const res = await server.call(member, 'POST', `${url}/schedules`, body(theirDestination));
      expect(res.statusCode).toBe(404);
      expect(res.json().error.message).toMatch(/No destination/);
      const mine = await destination();
      const foreignProject = await server.call(
        member,
        'POST',
        `${url}/schedules`,
        body(mine, { projectId: 'prj_not_here' }),
      );
      expect(foreignProject.statusCode).toBe(404);
    });

    it('a destination in use by a schedule is not deleted', async () => {
      const destinationId = await destination();
      await server.call(member, 'POST', `${url}/schedules`, body(destinationId));
      const res = await server.call(owner, 'DELETE', `${url}/destinations/${destinationId}`);
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/used by 1 schedule/);
    });
  });

  describe('runs', () => {
    it('a member’s app reports a run started then finished; everyone sees it (audited)', async () => {
      const started = await server.call(member, 'POST', `${url}/runs`, { projectId });
      expect(started.statusCode, started.body).toBe(201);
      const run = started.json<{ id: string; status: string }>();
      expect(run.status).toBe('started');
      const finished = await server.call(member, 'PATCH', `${url}/runs/${run.id}`, {
        status: 'finished',
        documentCount: 1200,
        bytes: 345678,
        backupId: 'bkp_20261130T081500000Z_a1b2c3d4',
      });
      expect(finished.statusCode, finished.body).toBe(200);
      expect(finished.json()).toMatchObject({
        status: 'finished',
        documentCount: 1200,
        bytes: 345678,
        backupId: 'bkp_20261130T081500000Z_a1b2c3d4',
        reportedBy: member.userId,
      });
      expect(finished.json<{ finishedAt: string | null }>().finishedAt).not.toBeNull();
      const listed = (await server.call(viewer, 'GET', `${url}/runs`)).json<{
        runs: Array<{ id: string; status: string }>;
      }>().runs;
      expect(listed).toContainEqual(expect.objectContaining({ id: run.id, status: 'finished' }));
      expect((await events('run.started')).map((e) => e.resource.id)).toContain(run.id);
      expect((await events('run.finished')).map((e) => e.resource.id)).toContain(run.id);
      // A finished run is history: it is not reported again.
      const again = await server.call(member, 'PATCH', `${url}/runs/${run.id}`, {
        status: 'failed',
        errorMessage: 'late',
      });
      expect(again.statusCode).toBe(409);
    });

    it('a failed run carries its error message; one without is refused', async () => {
      const none = await server.call(member, 'POST', `${url}/runs`, {
        projectId,
        status: 'failed',
      });
      expect(none.statusCode).toBe(400);
      expect(none.json().error.message).toMatch(/errorMessage/);
      const failed = await server.call(member, 'POST', `${url}/runs`, {
        projectId,
        status: 'failed',
        errorMessage: 'PERMISSION_DENIED: the service account cannot read Firestore',
      });
      expect(failed.statusCode, failed.body).toBe(201);
      expect(failed.json()).toMatchObject({ status: 'failed' });
      expect((await events('run.failed')).map((e) => e.resource.id)).toContain(
        failed.json<{ id: string }>().id,
      );
    });

    it('lists with filters: status, project, schedule', async () => {
      const second = (
        await server.call(owner, 'POST', `${url}/projects`, {
          name: 'Second',
          firebaseProjectId: 'acme-second',
        })
      ).json<{ id: string }>().id;
      const a = (await server.call(member, 'POST', `${url}/runs`, { projectId: second })).json<{
        id: string;
      }>();
      const failed = await server.call(member, 'GET', `${url}/runs?status=failed`);
      const statuses = failed.json<{ runs: Array<{ status: string }> }>().runs.map((r) => r.status);
      expect(statuses.length).toBeGreaterThan(0);
      expect(new Set(statuses)).toEqual(new Set(['failed']));
      const byProject = (await server.call(member, 'GET', `${url}/runs?projectId=${second}`)).json<{
        runs: Array<{ id: string }>;
      }>().runs;
      expect(byProject.map((r) => r.id)).toEqual([a.id]);
      const bySchedule = await server.call(member, 'GET', `${url}/runs?scheduleId=sch_none`);
      expect(bySchedule.json()).toEqual({ runs: [], nextCursor: null });
      expect((await server.call(member, 'GET', `${url}/runs?status=lost`)).statusCode).toBe(400);
    });

    it("a run of another organisation's project is refused as not found", async () => {
      const stranger = await server.login('owner@other.test');
      const theirs = (
        await server.call(stranger, 'POST', `/api/v1/organizations/${otherOrgId}/projects`, {
          name: 'Theirs',
          firebaseProjectId: 'other-main',
        })
      ).json<{ id: string }>().id;
      const res = await server.call(member, 'POST', `${url}/runs`, { projectId: theirs });
      expect(res.statusCode).toBe(404);
    });
  });

  describe('backup records', () => {
    it('name their destination: its id (the URL filled in from it) or a URL alone; listed back', async () => {
      const destinationId = await destination();
      const named = await server.call(member, 'POST', `${url}/backups`, {
        projectId,
        backupId: 'bkp_20261130T130000000Z_aaaa0001',
        destinationId,
      });
      expect(named.statusCode, named.body).toBe(201);
      expect(named.json()).toMatchObject({
        destinationId,
        destinationUrl: expect.stringMatching(/^s3:\/\/acme-backups\//),
      });
      const byUrl = await server.call(member, 'POST', `${url}/backups`, {
        projectId,
        backupId: 'bkp_20261130T130000000Z_aaaa0002',
        destinationUrl: '/srv/only-mine',
      });
      expect(byUrl.statusCode, byUrl.body).toBe(201);
      const listed = (await server.call(viewer, 'GET', `${url}/backups`)).json<{
        backups: Array<Record<string, unknown>>;
      }>().backups;
      expect(listed.find((b) => b.backupId === 'bkp_20261130T130000000Z_aaaa0002')).toMatchObject({
        destinationId: null,
        destinationUrl: '/srv/only-mine',
      });
      expect(listed.find((b) => b.backupId === 'bkp_20261130T130000000Z_aaaa0001')).toMatchObject({
        destinationId,
      });
    });

    it("refuse credentials in the URL (never stored) and another organisation's destination (404)", async () => {
      const secret = await server.call(member, 'POST', `${url}/backups`, {
        projectId,
        destinationUrl: 's3://ada:hunter2@acme-backups/x',
      });
      expect(secret.statusCode).toBe(400);
      expect(secret.body).not.toContain('hunter2');
      const stranger = await server.login('owner@other.test');
      const theirs = (
        await server.call(stranger, 'POST', `/api/v1/organizations/${otherOrgId}/destinations`, {
          name: 'Theirs',
          url: '/srv/theirs',
        })
      ).json<{ id: string }>().id;
      const res = await server.call(member, 'POST', `${url}/backups`, {
        projectId,
        destinationId: theirs,
      });
      expect(res.statusCode).toBe(404);
    });
  });

  describe('row-level security on the catalog tables', () => {
    it("a tenant query sees only its own organisation's destinations, schedules and runs", async () => {
      await destination();
      await server.call(member, 'POST', `${url}/runs`, { projectId });
      const asTenant = (org: string) =>
        server.db.withOrg(org, async (tx) => ({
          destinations: await tx.query<{ organisation_id: string }>(
            'SELECT organisation_id FROM destinations',
          ),
          schedules: await tx.query<{ organisation_id: string }>(
            'SELECT organisation_id FROM schedules',
          ),
          runs: await tx.query<{ organisation_id: string }>('SELECT organisation_id FROM runs'),
        }));
      const mine = await asTenant(orgId);
      expect(mine.destinations.length).toBeGreaterThan(0);
      expect(mine.runs.length).toBeGreaterThan(0);
      for (const rows of Object.values(mine))
        expect(new Set(rows.map((r) => r.organisation_id))).toEqual(
          new Set(rows.length ? [orgId] : []),
        );
      const theirs = await asTenant('org_nobody');
      expect(theirs).toEqual({ destinations: [], schedules: [], runs: [] });
      await expect(
        server.db.withOrg(orgId, (tx) =>
          tx.query(
            `INSERT INTO destinations (id, organisation_id, name, url, kind, created_by)
             VALUES ('dst_x', $1, 'x', '/x', 'local', 'usr_x')`,
            [otherOrgId],
          ),
        ),
      ).rejects.toThrow(/row-level security/);
    });
  });

  describe('pagination (keyset on created_at, id)', () => {
    it('pages of 50 by default, at most 200, each row exactly once even with equal timestamps', async () => {
      // 120 records, 60 of them sharing one created_at, written straight into the table so
      // ties are certain.
      const pageProject = (
        await server.call(owner, 'POST', `${url}/projects`, {
          name: 'Paged',
          firebaseProjectId: 'acme-paged',
        })
      ).json<{ id: string }>().id;
      await server.db.withOrg(orgId, (tx) =>
        tx.query(
          `INSERT INTO backups (id, organisation_id, project_id, created_at, created_by)
           SELECT 'bkp_page_' || lpad(n::text, 3, '0'), $1, $2,
                  CASE WHEN n <= 60 THEN timestamptz '2026-01-01 00:00:00.123456+00'
                       ELSE timestamptz '2026-01-02' + n * interval '1 microsecond' END, 'usr_x'
             FROM generate_series(1, 120) n`,
          [orgId, pageProject],
        ),
      );
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await server.call(
          viewer,
          'GET',
          `${url}/backups?projectId=${pageProject}${cursor !== null ? `&cursor=${cursor}` : ''}`,
        );
        expect(res.statusCode, res.body).toBe(200);
        const page = res.json<{
          backups: Array<{ id: string; createdAt: string }>;
          nextCursor: string | null;
        }>();
        expect(page.backups.length).toBeLessThanOrEqual(50);
        seen.push(...page.backups.map((b) => b.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 10);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(120);
      expect(new Set(seen).size).toBe(120);
      // Newest first: the 60 later ones (descending), then the 60 tied ones by id descending.
      const expected = Array.from(
        { length: 120 },
        (_, i) => `bkp_page_${String(i + 1).padStart(3, '0')}`,
      );
      expect(seen).toEqual([...expected.slice(60).reverse(), ...expected.slice(0, 60).reverse()]);

      const big = await server.call(
        viewer,
        'GET',
        `${url}/backups?projectId=${pageProject}&limit=200`,
      );
      expect(big.json<{ backups: unknown[]; nextCursor: null }>()).toMatchObject({
        nextCursor: null,
      });
      expect(big.json<{ backups: unknown[] }>().backups).toHaveLength(120);
      expect((await server.call(viewer, 'GET', `${url}/backups?limit=201`)).statusCode).toBe(400);
      const bad = await server.call(viewer, 'GET', `${url}/backups?cursor=not-a-cursor`);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.message).toMatch(/cursor/);
    });

    it('every list route answers with a page and nextCursor', async () => {
      for (const [path, key] of [
        ['/projects', 'projects'],
        ['/backups', 'backups'],
        ['/destinations', 'destinations'],
        ['/schedules', 'schedules'],
        ['/runs', 'runs'],
        ['/members', 'members'],
        ['/api-keys', 'apiKeys'],
        ['/audit', 'entries'],
      ] as const) {
        const res = await server.call(owner, 'GET', `${url}${path}?limit=1`);
        expect(res.statusCode, `${path}: ${res.body}`).toBe(200);
        const body = res.json<Record<string, unknown>>();
        expect(Array.isArray(body[key]), path).toBe(true);
        expect((body[key] as unknown[]).length, path).toBeLessThanOrEqual(1);
        expect(body, path).toHaveProperty('nextCursor');
      }
    });

    it('the audit log pages backwards from the newest with the same cursor', async () => {
      const first = (await server.call(owner, 'GET', `${url}/audit?limit=3`)).json<{
        entries: Array<{ seq: number }>;
        nextCursor: string;
      }>();
      expect(first.entries).toHaveLength(3);
      const second = (
        await server.call(owner, 'GET', `${url}/audit?limit=3&cursor=${first.nextCursor}`)
      ).json<{ entries: Array<{ seq: number }> }>();
      const seqs = [...first.entries, ...second.entries].map((e) => e.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
      expect(new Set(seqs).size).toBe(6);
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => catalogSuite(backend));
