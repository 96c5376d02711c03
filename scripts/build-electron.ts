/**
 * `npm run build:electron`: the Electron main process (tsc, ESM, beside the engine in dist/)
 * and the preload (one CommonJS bundle, dist/preload/index.cjs: a sandboxed preload can
 * require nothing but `electron`, so the contract it is generated from is bundled in).
 * Runs in CI with `npm run build`; packaging (`npm run dist`) needs Electron's binary.
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function bundlePreload(outfile = path.join(root, 'dist', 'preload', 'index.cjs')) {
  await build({
    entryPoints: [path.join(root, 'src', 'preload', 'index.ts')],
    outfile,
    bundle: true,
    // 'browser': a Node built-in pulled in by mistake fails the build instead of the window.
    platform: 'browser',
    format: 'cjs',
    target: 'chrome130',
    external: ['electron'],
    minify: false,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
  });
  return outfile;
}

function electronTypesInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('electron/package.json');
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  if (!electronTypesInstalled()) {
    // electron is an optional dependency: where npm dropped it, the CLI and web mode still build.
    console.warn(
      'build:electron skipped: the optional dependency "electron" is not installed (run `npm install` with ELECTRON_SKIP_BINARY_DOWNLOAD=1 to get its types).',
    );
    return;
  }
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.electron.json')], {
    stdio: 'inherit',
  });
  const preload = await bundlePreload();
  console.log(`Built dist/main and ${path.relative(root, preload)}.`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
