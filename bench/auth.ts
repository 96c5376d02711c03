/**
 * Auth users on the Auth emulator (issue #10): export (paged listing, records built as
 * archived, and the second listing that cross-checks the count) and restore (lookups and
 * imports, create mode) of BENCH_USERS users (default 20,000), each with an email, a
 * password, a display name and custom claims. In-process, against the engine's modules:
 * the emulator itself is the limit being measured. Uses $FIREBACKUP_TEST_AUTH_HOST or
 * starts the emulator.
 */
import { randomBytes } from 'node:crypto';
import { openAuth, type AuthConnection } from '../src/engine/sources/auth/connection.js';
import { exportUsers, readHashConfig } from '../src/engine/sources/auth/export.js';
import type { AuthUserRecord } from '../src/engine/sources/auth/records.js';
import { restoreUsers } from '../src/engine/sources/auth/restore.js';
import { startAuthEmulator } from '../test/helpers/auth-emulator.js';
import type { BenchLine } from './lib.js';

async function seed(conn: AuthConnection, count: number): Promise<void> {
  for (let start = 0; start < count; start += 1000) {
    const users = Array.from({ length: Math.min(1000, count - start) }, (_, i) => {
      const n = start + i;
      return {
        localId: `user-${String(n).padStart(7, '0')}`,
        email: `user${n}@example.com`,
        emailVerified: n % 2 === 0,
        rawPassword: `password-${n}`,
        displayName: `User ${n}`,
        customAttributes: JSON.stringify({ tier: n % 5, beta: n % 3 === 0 }),
      };
    });
    await conn.request('POST', `/v1/projects/${conn.projectId}/accounts:batchCreate`, { users });
  }
}

export interface AuthBench {
  users: number;
  exportUsersPerS: number;
  restoreUsersPerS: number;
}

export async function benchAuth(): Promise<AuthBench> {
  const count = Number(process.env.BENCH_USERS ?? 20_000);
  const emulator = await startAuthEmulator();
  try {
    const project = (): string => `bench-${randomBytes(3).toString('hex')}`;
    const source = openAuth({ projectId: project(), emulatorHost: emulator.host });
    await seed(source, count);

    const config = await readHashConfig(source);
    const users: AuthUserRecord[] = [];
    let t = performance.now();
    for await (const u of exportUsers(source, { hashConfig: config.hashConfig })) users.push(u);
    const exportMs = performance.now() - t;
    if (users.length !== count) throw new Error(`exported ${users.length} of ${count} users`);

    const target = openAuth({ projectId: project(), emulatorHost: emulator.host });
    t = performance.now();
    const report = await restoreUsers(
      target,
      (async function* () {
        yield* users;
      })(),
      { mode: 'create', hashConfig: config },
    );
    const restoreMs = performance.now() - t;
    if (report.created !== count) throw new Error(`restored ${report.created} of ${count} users`);
    return {
      users: count,
      exportUsersPerS: count / (exportMs / 1000),
      restoreUsersPerS: count / (restoreMs / 1000),
    };
  } finally {
    await emulator.stop();
  }
}

export async function authLines(): Promise<BenchLine[]> {
  const r = await benchAuth();
  return [
    {
      name: `Auth export from the emulator, ${r.users} users (listing + cross-check listing)`,
      value: r.exportUsersPerS,
      unit: 'users/s',
      target: '≥ 2,000',
      pass: r.exportUsersPerS >= 2000,
    },
    {
      name: 'Auth restore into an empty emulator project (lookups + imports)',
      value: r.restoreUsersPerS,
      unit: 'users/s',
      target: '≥ 1,000',
      pass: r.restoreUsersPerS >= 1000,
    },
  ];
}
