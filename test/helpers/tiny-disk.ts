import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A real full disk for tests: a tmpfs of `kib` KiB (needs root, as CI runs). Returns
 * undefined where it cannot be mounted, so the test that needs it says it is skipped.
 */
export function mountTinyDisk(kib: number): { dir: string; unmount: () => void } | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'fb-tiny-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kib}k`, 'tmpfs', dir], { stdio: 'ignore' });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount: () => {
      execFileSync('umount', [dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const canMountTinyDisk = ((): boolean => {
  const disk = mountTinyDisk(16);
  disk?.unmount();
  return disk !== undefined;
})();
