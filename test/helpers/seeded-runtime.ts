import path from 'node:path';
import { createRuntime, type Runtime } from '../../src/engine/jobs/runtime.js';
import { Keyring } from '../../src/engine/keys/keyring.js';
import { MasterKey } from '../../src/engine/keys/master-key.js';
import { seedDocuments, testProject } from './firestore-seed.js';

export interface SeededRuntime {
  runtime: Runtime;
  keyring: Keyring;
  /** Catalog ids of the seeded project and of a local folder destination in `dir`. */
  projectId: string;
  destinationId: string;
}

/**
 * A real runtime over a catalog in `dir`, with a fresh key, an emulator project seeded
 * with `count` documents (half in subcollections) and a local folder destination: what
 * the contract's front ends (dispatcher, web mode) are tested on.
 */
export async function seededRuntime(
  host: string,
  dir: string,
  name: string,
  count: number,
): Promise<SeededRuntime> {
  const keyring = new Keyring(MasterKey.generate());
  const runtime = createRuntime({ catalogFile: path.join(dir, 'catalog.sqlite'), keyring });
  const firebaseProjectId = testProject(name);
  await seedDocuments(host, firebaseProjectId, { count, withSubcollections: true });
  const projectId = runtime.catalog.projects.upsert({
    name,
    firebaseProjectId,
    emulatorHost: host,
  }).id;
  const destinationId = runtime.catalog.destinations.upsert({
    name: 'local',
    url: path.join(dir, 'backups'),
  }).id;
  return { runtime, keyring, projectId, destinationId };
}
