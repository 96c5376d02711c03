/**
 * What the backup benches stand on: a Firestore emulator ($FIRESTORE_EMULATOR_HOST, or
 * one started here), a seeded project, and a runtime whose catalog names it and a local
 * folder destination. `close` undoes all of it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DestinationRecord, ProjectRecord } from '../src/engine/catalog/projects.js';
import { createRuntime, type Runtime } from '../src/engine/jobs/runtime.js';
import { loadKeyring, type Keyring } from '../src/engine/keys/keyring.js';
import { emulatorJar, startFirestoreEmulator } from '../test/helpers/firestore-emulator.js';
import { seedDocuments } from '../test/helpers/firestore-seed.js';

export interface BackupFixture {
  runtime: Runtime;
  keyring: Keyring;
  project: ProjectRecord;
  destination: DestinationRecord;
  close(): Promise<void>;
}

/** undefined (after saying why) when no emulator can be had. */
export async function backupFixture(
  name: string,
  documents: number,
): Promise<BackupFixture | undefined> {
  let host = process.env.FIRESTORE_EMULATOR_HOST ?? '';
  const jar = host ? undefined : emulatorJar();
  if (!host && !jar) {
    console.error('No Firestore emulator: set FIRESTORE_EMULATOR_HOST or FIRESTORE_EMULATOR_JAR.');
    return undefined;
  }
  const emulator = jar ? await startFirestoreEmulator(jar) : undefined;
  host ||= emulator!.host;
  const dir = mkdtempSync(path.join(os.tmpdir(), `fb-bench-${name}-`));
  const firebaseProjectId = `bench-${name}-${randomBytes(3).toString('hex')}`;
  process.stderr.write(`seeding ${documents} documents…\n`);
  await seedDocuments(host, firebaseProjectId, {
    count: documents,
    withSubcollections: true,
    docBytes: 1000,
  });
  const keyring = await loadKeyring({ env: { ENCRYPTION_KEY: randomBytes(32).toString('hex') } });
  const runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
  return {
    runtime,
    keyring,
    project: runtime.catalog.projects.upsert({
      name: 'bench',
      firebaseProjectId,
      emulatorHost: host,
    }),
    destination: runtime.catalog.destinations.upsert({
      name: 'bench',
      url: path.join(dir, 'dest'),
    }),
    async close() {
      runtime.close();
      await emulator?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
