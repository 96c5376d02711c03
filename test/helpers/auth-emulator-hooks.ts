import { afterAll, beforeAll } from 'vitest';
import { startAuthEmulator } from './auth-emulator.js';

/**
 * Starts an Auth emulator for the calling test file (stopped after it); the host is
 * known once the file's tests run. Kept apart from auth-emulator.ts, which the bench
 * imports outside vitest.
 */
export function useAuthEmulator(): { readonly host: string } {
  let host = '';
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const emulator = await startAuthEmulator();
    host = emulator.host;
    stop = () => emulator.stop();
  }, 150_000);
  afterAll(async () => {
    await stop?.();
  });
  return {
    get host() {
      return host;
    },
  };
}
