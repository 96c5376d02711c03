/**
 * Auth users: export and restore against the real Auth emulator (firebase-tools).
 * Emulator projects are independent, so every test uses fresh project ids.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openAuth, type AuthConnection } from '../../src/engine/sources/auth/connection.js';
import {
  countUsers,
  exportUsers,
  listTenants,
  readHashConfig,
} from '../../src/engine/sources/auth/export.js';
import type { ApiUserInfo, AuthUserRecord } from '../../src/engine/sources/auth/records.js';
import { restoreUsers } from '../../src/engine/sources/auth/restore.js';
import { signInWithPassword } from '../helpers/auth-emulator.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';

const emulator = useAuthEmulator();

const project = (): string => `demo-${randomBytes(4).toString('hex')}`;
const connect = (projectId: string): AuthConnection =>
  openAuth({ projectId, emulatorHost: emulator.host });

async function importRaw(conn: AuthConnection, users: unknown[]): Promise<void> {
  const res = await conn.request<{ error?: unknown[] }>(
    'POST',
    `/v1/projects/${conn.projectId}/accounts:batchCreate`,
    { users },
  );
  expect(res.error ?? []).toEqual([]);
}

async function exportAll(conn: AuthConnection): Promise<AuthUserRecord[]> {
  const { hashConfig } = await readHashConfig(conn);
  const out: AuthUserRecord[] = [];
  for await (const u of exportUsers(conn, { hashConfig })) out.push(u);
  return out;
}

async function* iterate<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

/** Users with every provider and attribute the emulator keeps. */
const VARIED_USERS = [
  {
    localId: 'pw-user',
    email: 'alice@example.com',
    emailVerified: true,
    rawPassword: 'correct horse battery staple',
    displayName: 'Alice Ünicode 🔐',
    photoUrl: 'https://example.com/a.png',
    customAttributes: JSON.stringify({ admin: true, level: 3, tags: ['a', 'b'], n: 1.5 }),
    createdAt: '1600000000123',
    lastLoginAt: '1700000000456',
  },
  {
    localId: 'google-user',
    email: 'bob@example.com',
    emailVerified: true,
    providerUserInfo: [
      {
        providerId: 'google.com',
        rawId: 'g-1234567890',
        email: 'bob@example.com',
        displayName: 'Bob G',
        photoUrl: 'https://example.com/b.png',
      },
      { providerId: 'github.com', rawId: 'gh-42', displayName: 'bobhub' },
    ],
  },
  { localId: 'phone-user', phoneNumber: '+15555550100', disabled: true },
  {
    localId: 'mfa-user',
    email: 'carol@example.com',
    emailVerified: true,
    rawPassword: 'carol-secret',
    mfaInfo: [
      {
        phoneInfo: '+15555550101',
        displayName: 'work phone',
        mfaEnrollmentId: 'enrollment-1',
        enrolledAt: '2024-01-02T03:04:05Z',
      },
    ],
  },
  { localId: 'anon/üid with spaces' },
];

/** What the service sets itself when it imports a user (import time, token validity). */
const SET_BY_IMPORT = ['passwordUpdatedAt', 'validSince', 'lastRefreshAt'];
const comparable = (users: AuthUserRecord[]): Record<string, unknown>[] =>
  users.map((u) =>
    Object.fromEntries(Object.entries(u).filter(([k]) => !SET_BY_IMPORT.includes(k))),
  );

describe('Auth users on the Auth emulator', () => {
  it('round-trips every provider, claim, factor and date into a second project, passwords working', async () => {
    const source = connect(project());
    await importRaw(source, VARIED_USERS);
    const exported = await exportAll(source);
    expect(exported.map((u) => u.localId).sort()).toEqual(
      VARIED_USERS.map((u) => u.localId).sort(),
    );
    const alice = exported.find((u) => u.localId === 'pw-user')!;
    // Hash and salt are archived as base64 bytes.
    expect(Buffer.from(alice.passwordHash!, 'base64').toString('utf8')).toMatch(/^fakeHash:/);

    const target = connect(project());
    const hashConfig = await readHashConfig(source);
    const report = await restoreUsers(target, iterate(exported), { mode: 'create', hashConfig });
    expect(report).toMatchObject({ created: 5, skipped: 0, failedCount: 0 });

    const restored = await exportAll(target);
    expect(comparable(restored)).toEqual(comparable(exported));
    expect(
      await signInWithPassword(
        emulator.host,
        target.projectId,
        'alice@example.com',
        'correct horse battery staple',
      ),
    ).toBe('pw-user');
    expect(
      await signInWithPassword(emulator.host, target.projectId, 'alice@example.com', 'wrong'),
    ).toBeUndefined();
  });

  it('pages through thousands of users and cross-checks the count', async () => {
    const conn = connect(project());
    const users = Array.from({ length: 2345 }, (_, i) => ({
      localId: `u${String(i).padStart(5, '0')}`,
      email: `u${i}@example.com`,
    }));
    for (let i = 0; i < users.length; i += 1000) await importRaw(conn, users.slice(i, i + 1000));
    const { hashConfig } = await readHashConfig(conn);
    const seen: string[] = [];
    for await (const u of exportUsers(conn, { hashConfig, pageSize: 100 })) seen.push(u.localId);
    expect(seen).toEqual(users.map((u) => u.localId));
    expect(await countUsers(conn)).toBe(2345);
  });

  it('fails the export when the second listing counts a different number of users', async () => {
    const conn = connect(project());
    await importRaw(conn, [{ localId: 'a' }, { localId: 'b' }]);
    const { hashConfig } = await readHashConfig(conn);
    const consume = async (): Promise<number> => {
      let n = 0;
      for await (const _ of exportUsers(conn, { hashConfig })) {
        n++;
        // A sign-up lands after the listing has passed its place.
        if (n === 2) await importRaw(conn, [{ localId: 'zz-late' }]);
      }
      return n;
    };
    await expect(consume()).rejects.toMatchObject({
      code: 'INTEGRITY',
      message: expect.stringMatching(/read 2 users but a second listing counts 3/),
    });
  });

  it("backs up every tenant's users under the tenant's own hash configuration", async () => {
    const conn = connect(project());
    const tenant = await conn.request<{ tenantId: string }>(
      'POST',
      `/v2/projects/${conn.projectId}/tenants`,
      { displayName: 'acme', allowPasswordSignup: true },
    );
    const tenantPath = `/v1/projects/${conn.projectId}/tenants/${tenant.tenantId}`;
    await importRaw(conn, [{ localId: 'own-user', email: 'own@example.com' }]);
    const created = await conn.request<{ error?: unknown[] }>(
      'POST',
      `${tenantPath}/accounts:batchCreate`,
      {
        users: [
          {
            localId: 't1',
            email: 't1@acme.com',
            rawPassword: 'tenant-pw',
            tenantId: tenant.tenantId,
          },
          { localId: 't2', phoneNumber: '+15555550199', tenantId: tenant.tenantId },
        ],
      },
    );
    expect(created.error ?? []).toEqual([]);
    expect(await listTenants(conn)).toEqual([tenant.tenantId]);

    const config = await readHashConfig(conn, tenant.tenantId);
    expect(config.tenantId).toBe(tenant.tenantId);
    const users: AuthUserRecord[] = [];
    for await (const u of exportUsers(conn, {
      hashConfig: config.hashConfig,
      tenantId: tenant.tenantId,
    }))
      users.push(u);
    expect(users.map((u) => [u.localId, u.tenantId])).toEqual([
      ['t1', tenant.tenantId],
      ['t2', tenant.tenantId],
    ]);
    // The project's own listing does not hold them: without tenants they would be lost.
    expect((await exportAll(conn)).map((u) => u.localId)).toEqual(['own-user']);

    // Lost, then restored into the tenant, password working there.
    await conn.request('POST', `${tenantPath}/accounts:batchDelete`, {
      localIds: ['t1', 't2'],
      force: true,
    });
    const report = await restoreUsers(conn, iterate(users), { mode: 'create', hashConfig: config });
    expect(report).toMatchObject({ created: 2, failedCount: 0 });
    expect(
      await signInWithPassword(
        emulator.host,
        conn.projectId,
        't1@acme.com',
        'tenant-pw',
        tenant.tenantId,
      ),
    ).toBe('t1');
  });

  describe('restore modes', () => {
    const archived: AuthUserRecord[] = [
      {
        localId: 'x1',
        email: 'x1@example.com',
        displayName: 'Archived X1',
        customAttributes: JSON.stringify({ role: 'archived', keep: 1 }),
      },
      { localId: 'x2', email: 'x2@example.com', displayName: 'Archived X2' },
    ];
    const emulatorHash = {
      source: 'emulator' as const,
      project: 'p',
      hashConfig: { algorithm: 'FIREBASE_AUTH_EMULATOR' },
    };

    async function targetWithX1(): Promise<AuthConnection> {
      const conn = connect(project());
      await importRaw(conn, [
        {
          localId: 'x1',
          email: 'x1@example.com',
          displayName: 'Current X1',
          photoUrl: 'https://example.com/current.png',
          rawPassword: 'current-password',
          customAttributes: JSON.stringify({ role: 'current', extra: true }),
        },
      ]);
      return conn;
    }
    const byUid = async (conn: AuthConnection): Promise<Map<string, ApiUserInfo>> =>
      new Map((await exportAll(conn)).map((u) => [u.localId, u]));

    it('create skips existing uids and leaves them untouched', async () => {
      const conn = await targetWithX1();
      const report = await restoreUsers(conn, iterate(archived), {
        mode: 'create',
        hashConfig: emulatorHash,
      });
      expect(report).toMatchObject({ created: 1, skipped: 1, overwritten: 0, failedCount: 0 });
      const users = await byUid(conn);
      expect(users.get('x1')!.displayName).toBe('Current X1');
      expect(users.get('x2')!.displayName).toBe('Archived X2');
    });

    it('overwrite replaces the existing user whole', async () => {
      const conn = await targetWithX1();
      const report = await restoreUsers(conn, iterate(archived), {
        mode: 'overwrite',
        hashConfig: emulatorHash,
      });
      expect(report).toMatchObject({ created: 1, overwritten: 1, failedCount: 0 });
      const x1 = (await byUid(conn)).get('x1')!;
      expect(x1.displayName).toBe('Archived X1');
      expect(x1.photoUrl).toBeUndefined();
      expect(JSON.parse(x1.customAttributes as string)).toEqual({ role: 'archived', keep: 1 });
    });

    it('merge keeps fields the archive lacks, merges claims, keeps the current password', async () => {
      const conn = await targetWithX1();
      const report = await restoreUsers(conn, iterate(archived), {
        mode: 'merge',
        hashConfig: emulatorHash,
      });
      expect(report).toMatchObject({ created: 1, merged: 1, failedCount: 0 });
      const x1 = (await byUid(conn)).get('x1')!;
      expect(x1.displayName).toBe('Archived X1');
      expect(x1.photoUrl).toBe('https://example.com/current.png');
      expect(JSON.parse(x1.customAttributes as string)).toEqual({
        role: 'archived',
        keep: 1,
        extra: true,
      });
      expect(
        await signInWithPassword(
          emulator.host,
          conn.projectId,
          'x1@example.com',
          'current-password',
        ),
      ).toBe('x1');
    });

    it('a dry run reports the plan and writes nothing', async () => {
      const conn = await targetWithX1();
      for (const mode of ['create', 'overwrite'] as const) {
        const report = await restoreUsers(conn, iterate(archived), {
          mode,
          hashConfig: emulatorHash,
          dryRun: true,
        });
        expect(report.planned).toEqual(
          mode === 'create'
            ? { create: 1, overwrite: 0, skip: 1 }
            : { create: 1, overwrite: 1, skip: 0 },
        );
      }
      const users = await byUid(conn);
      expect([...users.keys()]).toEqual(['x1']);
      expect(users.get('x1')!.displayName).toBe('Current X1');
    });

    it('reports each refused user by uid and restores the others', async () => {
      const conn = connect(project());
      const report = await restoreUsers(
        conn,
        iterate([...archived, { localId: 'bad', email: 'not an email' }]),
        { mode: 'create', hashConfig: emulatorHash },
      );
      expect(report.created).toBe(2);
      expect(report.failedCount).toBe(1);
      expect(report.failed[0]).toMatchObject({
        uid: 'bad',
        message: expect.stringMatching(/bad.*email/i),
      });
    });

    it('refuses to put emulator password hashes into a real project', async () => {
      const real = openAuth({ projectId: 'real-project' });
      await expect(
        restoreUsers(real, iterate(archived), { mode: 'create', hashConfig: emulatorHash }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: /Auth emulator/ });
    });
  });
});
