/**
 * Tenants' users restored into another project, through the CLI on the Auth emulator:
 * tenant ids are made by the service, so a restore needs the target tenant to exist, and
 * --tenant-map puts an archived tenant's users into a tenant of another id — passwords
 * working there. A restore into a tenant that is not there fails and says what to do.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { openAuth, type AuthConnection } from '../../src/engine/sources/auth/connection.js';
import { parseTenantMap } from '../../src/engine/sources/auth/tenants.js';
import { signInWithPassword } from '../helpers/auth-emulator.js';
import { useAuthEmulator } from '../helpers/auth-emulator-hooks.js';
import { testProject } from '../helpers/firestore-seed.js';
import { runCli } from '../helpers/run-cli.js';

const firestoreHost = inject('firestoreEmulatorHost');
const auth = useAuthEmulator();

async function createTenant(conn: AuthConnection, name: string): Promise<string> {
  const t = await conn.request<{ tenantId: string }>(
    'POST',
    `/v2/projects/${conn.projectId}/tenants`,
    {
      displayName: name,
      allowPasswordSignup: true,
    },
  );
  return t.tenantId;
}

describe('parseTenantMap', () => {
  it('reads pairs and refuses what is not one', () => {
    expect(parseTenantMap('a-1=b-2, c=d')).toEqual({ 'a-1': 'b-2', c: 'd' });
    expect(() => parseTenantMap('a')).toThrow(/<archived tenant id>=<target tenant id>/);
    expect(() => parseTenantMap('a=b,a=c')).toThrow(/names tenant a twice/);
  });
});

describe.skipIf(!firestoreHost)('Auth tenants restored into another project', () => {
  it('needs the tenant in the target, and maps tenant ids with --tenant-map', async () => {
    const source = openAuth({ projectId: testProject('tenant-src'), emulatorHost: auth.host });
    const tenant = await createTenant(source, 'acme');
    await source.request('POST', `/v1/projects/${source.projectId}/accounts:batchCreate`, {
      users: [{ localId: 'own', email: 'own@example.com', rawPassword: 'own-pw' }],
    });
    await source.request(
      'POST',
      `/v1/projects/${source.projectId}/tenants/${tenant}/accounts:batchCreate`,
      {
        users: [
          { localId: 't1', email: 't1@acme.com', rawPassword: 'tenant-pw', tenantId: tenant },
          { localId: 't2', phoneNumber: '+15555550123', tenantId: tenant },
        ],
      },
    );
    const dir = await mkdtemp(path.join(tmpdir(), 'fb-tenants-'));
    const env = {
      ENCRYPTION_KEY: MasterKey.generate().revealHex(),
      FIRESTORE_EMULATOR_HOST: firestoreHost,
    };
    const backup = await runCli(
      [
        ...['backup', '--project', source.projectId, '--to', dir, '--json', '--allow-empty'],
        ...['--sources', 'firestore,auth', '--auth-emulator', auth.host],
      ],
      env,
    );
    expect(backup.code, backup.stderr).toBe(0);
    const { id } = backup.json<{ id: string }>();

    const target = openAuth({ projectId: testProject('tenant-dst'), emulatorHost: auth.host });
    const renamed = await createTenant(target, 'acme-restored');
    const restore = (extra: string[]): ReturnType<typeof runCli> =>
      runCli(
        [
          ...['restore', id, '--from', dir, '--to-project', target.projectId, '--json'],
          ...['--sources', 'auth', '--auth-emulator', auth.host, ...extra],
        ],
        env,
      );

    const missing = await restore([]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain(
      `has no tenant ${tenant}. Tenant ids are chosen by the service: create a tenant in ${target.projectId} and pass --tenant-map ${tenant}=<its id>`,
    );

    const mapped = await restore(['--tenant-map', `${tenant}=${renamed},not-in-backup=x`]);
    expect(mapped.code, mapped.stderr).toBe(0);
    // The project's own user came back in the first attempt (before the tenant's).
    expect(mapped.json()).toMatchObject({
      auth: { created: 2, skipped: 1, failedCount: 0, unusedTenantMappings: ['not-in-backup'] },
    });
    expect(mapped.stderr).toMatch(
      /--tenant-map names not-in-backup, which the backup holds no users of/,
    );
    expect(
      await signInWithPassword(auth.host, target.projectId, 't1@acme.com', 'tenant-pw', renamed),
    ).toBe('t1');
    const listed = await target.request<{ users?: Array<{ localId: string; tenantId?: string }> }>(
      'GET',
      `/v1/projects/${target.projectId}/tenants/${renamed}/accounts:batchGet?maxResults=10`,
    );
    expect(listed.users?.map((u) => [u.localId, u.tenantId])).toEqual([
      ['t1', renamed],
      ['t2', renamed],
    ]);
  });
});
