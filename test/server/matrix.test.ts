import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORG_ROUTES, successOf, type OrgRoute } from '../../src/server/routes/org.js';
import { API_KEY_SCOPES, ROLES, type ApiKeyScope, type Role } from '../../src/shared/rbac.js';
import {
  BACKENDS,
  openTestDb,
  SECRET,
  startTestServer,
  unavailable,
  type Backend,
  type Session,
  type TestServer,
} from './harness.js';

/** A member's own token re-signed as expired a minute ago: a good signature, a past time. */
async function expiredCopyOf(accessToken: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ ...decodeJwt(accessToken), iat: now - 3600, exp: now - 60 })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .sign(new TextEncoder().encode(SECRET));
}

/**
 * Generated from the route table and the guide's permission matrix: every organisation
 * route × every role × own / other organisation, plus no token. Destructive routes run
 * against fresh targets so each case sees the same starting state. The whole matrix runs on
 * each database (PGlite and PostgreSQL), one server per database for the file.
 */

function matrixSuite(backend: Backend): void {
  let server: TestServer;
  const sessions = {} as Record<Role, Session>;
  let orgId: string;
  let otherOrgId: string;
  let projectId: string;
  let destinationId: string;

  beforeAll(async () => {
    server = await startTestServer({}, {}, await openTestDb(backend));
    const owner = await server.login('owner@acme.test');
    sessions.owner = owner;
    orgId = await server.createOrg(owner);
    for (const role of ROLES.filter((r) => r !== 'owner')) {
      sessions[role] = await server.login(`${role}@acme.test`);
      await server.addMember(orgId, sessions[role].userId, role);
    }
    const stranger = await server.login('owner@other.test');
    otherOrgId = await server.createOrg(stranger, 'Other');
    const res = await server.call(owner, 'POST', `/api/v1/organizations/${orgId}/projects`, {
      name: 'Main',
      firebaseProjectId: 'acme-main',
    });
    projectId = res.json<{ id: string }>().id;
    destinationId = (
      await server.call(owner, 'POST', `/api/v1/organizations/${orgId}/destinations`, {
        name: 'Shared',
        url: 's3://acme-backups/shared',
        options: { region: 'eu-west-1' },
      })
    ).json<{ id: string }>().id;
  });
  /** Creates a record in the organisation as its owner, for the routes that change one. */
  async function made(path: string, body: object): Promise<string> {
    const res = await server.call(
      sessions.owner,
      'POST',
      `/api/v1/organizations/${orgId}${path}`,
      body,
    );
    if (res.statusCode !== 201) throw new Error(`${path}: ${res.body}`);
    return res.json<{ id: string }>().id;
  }
  const scheduleBody = (n: number) => ({
    name: `s${n}`,
    projectId,
    destinationId,
    cron: '0 3 * * *',
  });
  afterAll(async () => {
    await server.close();
    await server.db.close();
  });

  let counter = 0;
  /** A URL and body for one call of `route` in `org`, with a fresh target where it destroys one. */
  async function prepare(route: OrgRoute, org: string): Promise<{ url: string; body?: unknown }> {
    const base = `/api/v1/organizations/${org}`;
    const n = ++counter;
    switch (`${route.method} ${route.path}`) {
      case 'DELETE ': {
        // A throwaway organisation per case, where the role under test is that role.
        return { url: base };
      }
      case 'PATCH /members/:userId':
      case 'DELETE /members/:userId': {
        const target = await server.login(`target${n}@acme.test`);
        if (org === orgId) await server.addMember(orgId, target.userId, 'viewer');
        const body = route.method === 'PATCH' ? { role: 'member' } : undefined;
        return { url: `${base}/members/${target.userId}`, body };
      }
      case 'POST /api-keys':
        return { url: `${base}/api-keys`, body: { name: `k${n}`, scopes: ['backups:read'] } };
      case 'DELETE /api-keys/:keyId': {
        const res = await server.call(
          sessions.owner,
          'POST',
          `/api/v1/organizations/${orgId}/api-keys`,
          {
            name: `victim${n}`,
            scopes: ['backups:read'],
          },
        );
        return { url: `${base}/api-keys/${res.json<{ id: string }>().id}` };
      }
      case 'POST /projects':
        return { url: `${base}/projects`, body: { name: `p${n}`, firebaseProjectId: `proj-${n}` } };
      case 'GET /projects/:projectId':
        return { url: `${base}/projects/${projectId}` };
      case 'PATCH /projects/:projectId':
      case 'DELETE /projects/:projectId': {
        const id = await made('/projects', { name: `victim${n}`, firebaseProjectId: `vic-${n}` });
        const body = route.method === 'PATCH' ? { name: `renamed${n}` } : undefined;
        return { url: `${base}/projects/${id}`, body };
      }
      case 'POST /backups':
        return { url: `${base}/backups`, body: { projectId, sizeBytes: 10 } };
      case 'POST /invitations':
        return {
          url: `${base}/invitations`,
          body: { email: `invitee${n}@acme.test`, role: 'viewer' },
        };
      case 'DELETE /invitations/:invitationId': {
        const res = await server.call(
          sessions.owner,
          'POST',
          `/api/v1/organizations/${orgId}/invitations`,
          { email: `revokee${n}@acme.test`, role: 'member' },
        );
        return { url: `${base}/invitations/${res.json<{ id: string }>().id}` };
      }
      case 'POST /ownership': {
        // Runs in a throwaway organisation (see THROWAWAY): the heir is a member there.
        const heir = await server.login(`heir${n}@acme.test`);
        if (org !== otherOrgId) await server.addMember(org, heir.userId, 'member');
        return { url: `${base}/ownership`, body: { userId: heir.userId } };
      }
      case 'DELETE /backups/:backupId': {
        const res = await server.call(
          sessions.owner,
          'POST',
          `/api/v1/organizations/${orgId}/backups`,
          {
            projectId,
          },
        );
        return { url: `${base}/backups/${res.json<{ id: string }>().id}` };
      }
      case 'POST /destinations':
        return { url: `${base}/destinations`, body: { name: `d${n}`, url: `/srv/backups/${n}` } };
      case 'GET /destinations/:destinationId':
      case 'PATCH /destinations/:destinationId':
      case 'DELETE /destinations/:destinationId': {
        const id = await made('/destinations', { name: `victim${n}`, url: `/srv/v${n}` });
        const body = route.method === 'PATCH' ? { name: `renamed${n}` } : undefined;
        return { url: `${base}/destinations/${id}`, body };
      }
      case 'POST /schedules':
        return { url: `${base}/schedules`, body: scheduleBody(n) };
      case 'GET /schedules/:scheduleId':
      case 'PATCH /schedules/:scheduleId':
      case 'DELETE /schedules/:scheduleId': {
        const id = await made('/schedules', scheduleBody(n));
        const body = route.method === 'PATCH' ? { paused: true } : undefined;
        return { url: `${base}/schedules/${id}`, body };
      }
      case 'PATCH /billing':
        return { url: `${base}/billing`, body: { billingEmail: `billing${n}@acme.test` } };
      case 'POST /runs':
        return { url: `${base}/runs`, body: { projectId } };
      case 'PATCH /runs/:runId': {
        const id = await made('/runs', { projectId });
        return { url: `${base}/runs/${id}`, body: { status: 'finished', documentCount: n } };
      }
      default:
        return { url: `${base}${route.path}` };
    }
  }

  /**
   * Routes that change who owns the organisation run, as the role under test, in a fresh
   * organisation of their own, so the shared one keeps its owner for the other cases.
   */
  const THROWAWAY = new Set(['DELETE ', 'POST /ownership']);

  describe('route × role matrix', () => {
    it('covers every organisation route', () => {
      expect(ORG_ROUTES.length).toBeGreaterThanOrEqual(19);
      expect(ORG_ROUTES.map((r) => `${r.method} ${r.path}`)).toEqual(
        expect.arrayContaining([
          'GET /invitations',
          'POST /invitations',
          'DELETE /invitations/:invitationId',
          'POST /ownership',
          'GET /billing',
          'PATCH /billing',
          'PATCH /projects/:projectId',
          'DELETE /projects/:projectId',
        ]),
      );
    });

    for (const route of ORG_ROUTES) {
      const name = `${route.method} /organizations/:orgId${route.path}`;
      for (const role of ROLES) {
        const allowed = route.rule.roles.includes(role);
        it(`${name} as ${role} of the organisation → ${allowed ? successOf(route) : 403}`, async () => {
          let org = orgId;
          if (THROWAWAY.has(`${route.method} ${route.path}`)) {
            // A fresh organisation where this user has this role.
            org = await server.createOrg(sessions.owner, `doomed-${role}`);
            if (role !== 'owner') await server.addMember(org, sessions[role].userId, role);
          }
          const { url, body } = await prepare(route, org);
          const res = await server.call(sessions[role], route.method, url, body);
          expect(res.statusCode, res.body).toBe(allowed ? successOf(route) : 403);
          if (!allowed) expect(res.json().error.code).toBe('PERMISSION_DENIED');
        });
        it(`${name} as ${role} of another organisation → 404`, async () => {
          const { url, body } = await prepare(route, otherOrgId);
          const res = await server.call(sessions[role], route.method, url, body);
          expect(res.statusCode, res.body).toBe(404);
          expect(res.json().error.code).toBe('NOT_FOUND');
        });
      }
      it(`${name} without a token → 401`, async () => {
        const { url, body } = await prepare(route, orgId);
        const res = await server.call(null, route.method, url, body);
        expect(res.statusCode).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHENTICATED');
      });
      it(`${name} with the owner's token expired → 401`, async () => {
        const { url, body } = await prepare(route, orgId);
        const expired = await expiredCopyOf(sessions.owner.accessToken);
        const res = await server.call(expired, route.method, url, body);
        expect(res.statusCode, res.body).toBe(401);
        expect(res.json().error.code).toBe('UNAUTHENTICATED');
      });
    }

    it('denials are recorded in the audit log', async () => {
      const res = await server.call(
        sessions.owner,
        'GET',
        `/api/v1/organizations/${orgId}/audit?event=access.denied`,
      );
      const entries = res.json<{ entries: Array<{ actor: { id: string }; level: string }> }>()
        .entries;
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.map((e) => e.actor.id)).toContain(sessions.viewer.userId);
      expect(entries[0]!.level).toBe('warn');
    });
  });

  describe('route × API key scope matrix', () => {
    const keys = {} as Record<ApiKeyScope, string>;
    beforeAll(async () => {
      for (const scope of API_KEY_SCOPES) {
        const res = await server.call(
          sessions.owner,
          'POST',
          `/api/v1/organizations/${orgId}/api-keys`,
          {
            name: `scope ${scope}`,
            scopes: [scope],
          },
        );
        keys[scope] = res.json<{ key: string }>().key;
      }
    });

    for (const route of ORG_ROUTES) {
      const name = `${route.method} /organizations/:orgId${route.path}`;
      for (const scope of API_KEY_SCOPES) {
        const allowed = route.rule.scope === scope;
        it(`${name} with a ${scope} key → ${allowed ? successOf(route) : 403}`, async () => {
          if (route.method === 'DELETE' && route.path === '') {
            // Keys never delete organisations; check on the key's own organisation without harm.
            const res = await server.call(
              keys[scope],
              'DELETE',
              `/api/v1/organizations/${orgId}`,
              undefined,
              {
                'x-organization-id': orgId,
              },
            );
            expect(res.statusCode).toBe(403);
            return;
          }
          const { url, body } = await prepare(route, orgId);
          const res = await server.call(keys[scope], route.method, url, body, {
            'x-organization-id': orgId,
          });
          expect(res.statusCode, res.body).toBe(allowed ? successOf(route) : 403);
        });
      }
      it(`${name} with a key on another organisation → 404`, async () => {
        const { url, body } = await prepare(route, otherOrgId);
        // The header names the key's own organisation but the URL another one: refused as
        // a contradiction; naming the other organisation in the header: the key is unknown there.
        const mismatch = await server.call(keys['backups:read'], route.method, url, body, {
          'x-organization-id': orgId,
        });
        expect(mismatch.statusCode).toBe(400);
        const foreign = await server.call(keys['backups:read'], route.method, url, body, {
          'x-organization-id': otherOrgId,
        });
        expect(foreign.statusCode).toBe(401);
      });
    }

    it('a key without X-Organization-Id is refused with a message naming the header', async () => {
      const res = await server.call(
        keys['backups:read'],
        'GET',
        `/api/v1/organizations/${orgId}/backups`,
      );
      expect(res.statusCode).toBe(400);
      expect(res.json().error.message).toMatch(/X-Organization-Id/);
    });

    it('records the last use of a key and never lists the key itself', async () => {
      const res = await server.call(
        sessions.admin,
        'GET',
        `/api/v1/organizations/${orgId}/api-keys`,
      );
      const listed = res.json<{ apiKeys: Array<Record<string, unknown>> }>().apiKeys;
      const read = listed.find((k) => k['name'] === 'scope backups:read')!;
      expect(read['lastUsedAt']).not.toBeNull();
      expect(String(read['prefix'])).toMatch(/^fbk_.{8}$/);
      expect(res.body).not.toContain(keys['backups:read']);
    });
  });
}

for (const backend of BACKENDS)
  describe.skipIf(unavailable(backend))(`on ${backend}`, () => matrixSuite(backend));
