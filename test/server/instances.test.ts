import { randomInt } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { linkAudit } from '../../src/server/audit-linker.js';
import { recordAudit, verifyChain } from '../../src/server/audit.js';
import type { Db } from '../../src/server/db/db.js';
import { freePort } from '../helpers/firestore-emulator.js';
import { openTestDb, startTestServer, unavailable, type TestServer } from './harness.js';

/**
 * Several server instances behind a load balancer must behave as one: they share one
 * PostgreSQL database and, through REDIS_URL, one Redis for rate limits and revocations.
 */
const redisUrl = inject('redisUrl');

describe.skipIf(unavailable('postgres') || !redisUrl)(
  'two instances sharing Redis and PostgreSQL',
  () => {
    let db: Db;
    const servers: TestServer[] = [];
    beforeAll(async () => {
      db = await openTestDb('postgres');
    });
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });
    afterAll(() => db.close());

    const instance = async (env: Record<string, string>) => {
      const server = await startTestServer(env, {}, db);
      servers.push(server);
      return server;
    };
    /** A client address of this test only, so counters in the shared Redis start at zero. */
    const address = () => `10.${randomInt(250)}.${randomInt(250)}.${randomInt(1, 250)}`;
    const me = (server: TestServer, ip: string) =>
      server.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress: ip });

    it('enforce one rate limit together: 429 with Retry-After on the instance that saw none of the earlier requests', async () => {
      const limits = { RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '5', REDIS_URL: redisUrl };
      const a = await instance(limits);
      const b = await instance(limits);
      const ip = address();
      for (let i = 0; i < 5; i++) expect((await me(a, ip)).statusCode).toBe(401);
      const limited = await me(b, ip);
      expect(limited.statusCode).toBe(429);
      expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(limited.json().error.code).toBe('RESOURCE_EXHAUSTED');
      // The control: an instance without REDIS_URL counts alone and lets the client through.
      const alone = await instance({ RATE_LIMIT_ENABLED: 'true', RATE_LIMIT_MAX: '5' });
      expect((await me(alone, ip)).statusCode).toBe(401);
    });

    it('a session revoked on one instance is refused by the other at once', async () => {
      const a = await instance({ REDIS_URL: redisUrl });
      const b = await instance({ REDIS_URL: redisUrl });
      const alice = await a.login(`alice${randomInt(1e9)}@acme.test`);
      const orgId = await a.createOrg(alice);
      const url = `/api/v1/organizations/${orgId}`;
      // B has just checked the session, so it holds it in its short cache.
      expect((await b.call(alice, 'GET', url)).statusCode).toBe(200);
      expect((await a.call(alice, 'POST', '/api/v1/auth/logout')).statusCode).toBe(204);
      const refused = await b.call(alice, 'GET', url);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().error.message).toMatch(/session has ended/);
    });

    it('without Redis a second instance may still serve a revoked session from its cache (why several instances need REDIS_URL)', async () => {
      const a = await instance({});
      const b = await instance({});
      const bob = await a.login(`bob${randomInt(1e9)}@acme.test`);
      const orgId = await a.createOrg(bob);
      const url = `/api/v1/organizations/${orgId}`;
      expect((await b.call(bob, 'GET', url)).statusCode).toBe(200);
      expect((await a.call(bob, 'POST', '/api/v1/auth/logout')).statusCode).toBe(204);
      expect((await a.call(bob, 'GET', url)).statusCode).toBe(401);
      expect((await b.call(bob, 'GET', url)).statusCode).toBe(200);
    });

    it('concurrent appends to one audit chain, its very first ones included, stay one intact chain', async () => {
      const chain = `org_race${randomInt(1e9)}`;
      await Promise.all(
        Array.from({ length: 24 }, (_, i) =>
          recordAudit(db, chain, {
            event: 'project.created',
            actor: { id: `usr_${i}`, email: null, ip: null },
            resource: { type: 'project', id: `prj_${i}` },
            metadata: {},
          }),
        ),
      );
      await linkAudit(db);
      expect(await db.withOrg(chain, (tx) => verifyChain(tx, chain))).toEqual({
        ok: true,
        entries: 24,
      });
    });

    it('readyz reports Redis; an unreachable Redis answers 503 with a clear error, not a hang', async () => {
      const a = await instance({ REDIS_URL: redisUrl });
      expect((await a.app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
        status: 'ready',
        database: 'postgres',
        redis: 'ok',
      });
      const gone = await instance({
        REDIS_URL: `redis://127.0.0.1:${await freePort()}`,
        RATE_LIMIT_ENABLED: 'true',
      });
      const res = await me(gone, address());
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(res.json().error.message).toMatch(/Redis \(REDIS_URL\) does not answer/);
      expect((await gone.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    });
  },
);
