/**
 * `npm start`: opens the desktop app with Electron's binary. Where that binary is missing
 * (installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1, or npm could not download it), says so
 * plainly, says how to get it, and exits 1 — everything else works without it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const MISSING_ELECTRON = `FireBackup's desktop app needs Electron's binary, which is not installed here.
(The npm package "electron" downloads it when installed; that was skipped because
ELECTRON_SKIP_BINARY_DOWNLOAD is set, or the download failed on this network.)

To get it, on a machine that can reach the internet:
  npm install electron
or unset ELECTRON_SKIP_BINARY_DOWNLOAD and run \`npm ci\` again.

Everything else works without it: \`npx firebackup ui\` opens the same app in your browser,
and the CLI (\`npx firebackup --help\`) and \`firebackup daemon\` run as they are.
`;

export const NOT_BUILT = `The desktop app is not built yet: run \`npm run build\`, then \`npm start\`.
`;

/** The Electron executable, or undefined when the package or its binary is missing. */
export function electronBinary(): string | undefined {
  try {
    // The package's main is the executable's path; it throws when the binary was not fetched.
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : undefined;
  } catch {
    return undefined;
  }
}

function main(): void {
  const binary = electronBinary();
  if (!binary) {
    process.stderr.write(MISSING_ELECTRON);
    process.exit(1);
  }
  if (!existsSync(path.join(root, 'dist', 'main', 'index.js'))) {
    process.stderr.write(NOT_BUILT);
    process.exit(1);
  }
  const child = spawn(binary, [root, ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
