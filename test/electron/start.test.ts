import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MISSING_ELECTRON } from '../../scripts/start-electron.js';

const run = promisify(execFile);

/** Where the electron package would look for its binary (absent on these machines). */
function binaryInstalled(): boolean {
  try {
    const binary = createRequire(import.meta.url)('electron') as string;
    return existsSync(binary);
  } catch {
    return false;
  }
}

describe('npm start without the Electron binary', () => {
  it.skipIf(binaryInstalled())('says plainly how to get it and exits non-zero', async () => {
    const script = path.resolve('scripts', 'start-electron.ts');
    const result = await run(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, ELECTRON_OVERRIDE_DIST_PATH: '' },
    }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(MISSING_ELECTRON);
    expect(result.stderr).toContain('npm install electron');
    expect(result.stderr).toContain('unset ELECTRON_SKIP_BINARY_DOWNLOAD');
    expect(result.stderr).toContain('npx firebackup ui');
    expect(result.stdout).toBe('');
  });
});
