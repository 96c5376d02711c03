import type { TestProject } from 'vitest/node';
import {
  emulatorJar,
  startFirestoreEmulator,
  type RunningEmulator,
} from '../helpers/firestore-emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of a running Firestore emulator, or '' when none could be started. */
    firestoreEmulatorHost: string;
  }
}

let emulator: RunningEmulator | undefined;

/**
 * Starts the real servers tests need, once per run. `.ci/run` may already have started
 * them (FIRESTORE_EMULATOR_HOST set); otherwise we start our own.
 */
export async function setup(project: TestProject): Promise<void> {
  let host = process.env.FIRESTORE_EMULATOR_HOST ?? '';
  if (!host) {
    const jar = emulatorJar();
    if (jar) {
      emulator = await startFirestoreEmulator(jar);
      host = emulator.host;
    } else {
      const line = '!'.repeat(78);
      console.warn(
        `\n${line}\n! Firestore emulator jar NOT FOUND (set FIRESTORE_EMULATOR_JAR or install the\n! Google Cloud CLI's cloud-firestore-emulator). Tests that need Firestore are SKIPPED.\n${line}\n`,
      );
    }
  }
  project.provide('firestoreEmulatorHost', host);
}

export async function teardown(): Promise<void> {
  await emulator?.stop();
}
