/**
 * The Firebase Auth emulator (firebase-tools), for the tests and the bench that need it.
 *
 * Started per test file (it takes 10–17 s, so only the files that use it pay): a
 * firebase.json with auth on a free loopback port and the UI off, then firebase-tools'
 * own entry point run by node directly, so the PID we stop is the server itself (npx
 * would leave it behind). Emulator projects are independent: a test uses fresh project
 * ids rather than wiping.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stopChild, waitUntilUp } from '../setup/storage-servers.js';
import { freePort } from './firestore-emulator.js';

export interface RunningAuthEmulator {
  /** host:port, the form FIREBASE_AUTH_EMULATOR_HOST takes. */
  host: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

export async function startAuthEmulator(): Promise<RunningAuthEmulator> {
  // One already running (FIREBACKUP_TEST_AUTH_HOST, e.g. from a shell while developing).
  const given = process.env.FIREBACKUP_TEST_AUTH_HOST;
  if (given) return { host: given, stop: async () => undefined };
  const port = await freePort();
  // firebase-tools also starts its emulator hub and logging server, on fixed default ports
  // (4400, 4500): two test files starting emulators at once would collide there, and the
  // second emulator would stop soon after answering. Every port is a free one.
  const hubPort = await freePort();
  const loggingPort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-auth-emu-'));
  writeFileSync(
    path.join(dir, 'firebase.json'),
    JSON.stringify({
      emulators: {
        auth: { host: '127.0.0.1', port },
        hub: { host: '127.0.0.1', port: hubPort },
        logging: { host: '127.0.0.1', port: loggingPort },
        ui: { enabled: false },
        // Tests use several projects on purpose (a restore into a second project).
        singleProjectMode: false,
      },
    }),
  );
  const bin = path.join(
    path.dirname(require.resolve('firebase-tools/package.json')),
    'lib/bin/firebase.js',
  );
  const child: ChildProcess = spawn(
    process.execPath,
    [bin, 'emulators:start', '--only', 'auth', '--project', 'demo-test'],
    {
      cwd: dir,
      // No update checks or usage reporting: these machines reach only the npm registry.
      env: { ...process.env, FIREBASE_CLI_DISABLE_UPDATE_CHECK: 'true', CI: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const host = `127.0.0.1:${port}`;
  const stop = (): Promise<void> =>
    stopChild(child).finally(() => rmSync(dir, { recursive: true, force: true }));
  try {
    await waitUntilUp(
      child,
      'Auth emulator',
      `http://${host}/emulator/v1/projects/demo-test/config`,
      // firebase-tools takes 10–35 s to start on a busy machine.
      120_000,
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return { host, stop };
}

/** Signs a user in with email and password through the emulator's REST API; the uid, or undefined. */
export async function signInWithPassword(
  host: string,
  project: string,
  email: string,
  password: string,
  tenantId?: string,
): Promise<string | undefined> {
  const res = await fetch(
    `http://${host}/identitytoolkit.googleapis.com/v1/accounts:signInWithPassword?key=fake-api-key`,
    {
      method: 'POST',
      // An API-key call signs into the emulator's default project; naming another
      // project takes the admin token.
      headers: { 'content-type': 'application/json', authorization: 'Bearer owner' },
      body: JSON.stringify({
        email,
        password,
        returnSecureToken: true,
        targetProjectId: project,
        ...(tenantId ? { tenantId } : {}),
      }),
    },
  );
  if (!res.ok) return undefined;
  return ((await res.json()) as { localId?: string }).localId;
}

if (
  process.argv[1] &&
  path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)
) {
  // From a shell: start one and print its host, for FIREBACKUP_TEST_AUTH_HOST.
  const emulator = await startAuthEmulator();
  console.log(`export FIREBACKUP_TEST_AUTH_HOST=${emulator.host}`);
  const stop = (): void => void emulator.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
