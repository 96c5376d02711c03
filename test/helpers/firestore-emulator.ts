import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the Google Cloud CLI puts the Firestore emulator; FIRESTORE_EMULATOR_JAR overrides. */
export const DEFAULT_EMULATOR_JAR =
  '/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar';

export interface RunningEmulator {
  host: string;
  /** The java process, for tests that freeze it (SIGSTOP) to simulate a stalled server. */
  pid: number;
  stop(): Promise<void>;
}

export function emulatorJar(): string | undefined {
  const jar = process.env.FIRESTORE_EMULATOR_JAR ?? DEFAULT_EMULATOR_JAR;
  return existsSync(jar) ? jar : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * Starts Google's Firestore emulator (java, directly: `gcloud emulators` leaves the java
 * child behind) on a free loopback port and waits until it answers.
 */
export async function startFirestoreEmulator(jar: string): Promise<RunningEmulator> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'java',
    [
      '-Duser.language=en',
      '-cp',
      jar,
      'com.google.cloud.datastore.emulator.firestore.CloudFirestore',
      'start',
      '--host=127.0.0.1',
      `--port=${port}`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Firestore emulator exited early:\n${stderr}`);
    try {
      const res = await fetch(`http://${host}/`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (Date.now() >= deadline) {
    child.kill('SIGTERM');
    throw new Error(`Firestore emulator did not start within 60 s:\n${stderr}`);
  }
  return {
    host,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Deletes every document of one project's database in the emulator. */
export async function wipeEmulator(
  host: string,
  project: string,
  database = '(default)',
): Promise<void> {
  const res = await fetch(
    `http://${host}/emulator/v1/projects/${project}/databases/${database}/documents`,
    { method: 'DELETE' },
  );
  if (!res.ok) throw new Error(`wiping emulator project ${project} failed: ${res.status}`);
}
