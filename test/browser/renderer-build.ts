/**
 * The renderer the browser tests and the UI bench load: always a build of the sources as
 * they are now (a stale dist/renderer would test yesterday's screens). Built once per
 * content hash of the renderer's sources into node_modules/.cache, so repeated runs and
 * parallel workers share one build; FIREBACKUP_RENDERER_DIR points at a ready one instead.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CONFIG_CANDIDATES = [
  'vite.config.ts',
  'vite.renderer.config.ts',
  'src/renderer/vite.config.ts',
];
/** What the renderer bundle is built from. */
const SOURCE_DIRS = ['src/renderer', 'src/shared'];

/** The renderer's vite config, or undefined while the renderer does not exist yet. */
export function rendererConfig(): string | undefined {
  return CONFIG_CANDIDATES.map((c) => path.join(ROOT, c)).find((c) => existsSync(c));
}

async function hashSources(config: string): Promise<string> {
  const hash = createHash('sha256').update(await readFile(config));
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (!/\.test\.tsx?$/.test(e.name))
        hash.update(path.relative(ROOT, p)).update(await readFile(p));
    }
  };
  for (const d of SOURCE_DIRS) await walk(path.join(ROOT, d));
  return hash.digest('hex').slice(0, 16);
}

/** Builds (or reuses) the renderer; undefined when there is no renderer to build. */
export async function rendererForTests(): Promise<string | undefined> {
  if (process.env.FIREBACKUP_RENDERER_DIR) return path.resolve(process.env.FIREBACKUP_RENDERER_DIR);
  const config = rendererConfig();
  if (!config) return undefined;
  const cache = path.join(ROOT, 'node_modules', '.cache', 'firebackup-renderer');
  const out = path.join(cache, await hashSources(config));
  if (await stat(path.join(out, 'index.html')).catch(() => undefined)) return out;
  // Build beside, then rename into place: a parallel worker sees a whole build or none.
  const partial = `${out}.${process.pid}.partial`;
  await mkdir(cache, { recursive: true });
  await promisify(execFile)(
    path.join(ROOT, 'node_modules', '.bin', 'vite'),
    ['build', '--config', config, '--outDir', partial, '--emptyOutDir', '--logLevel', 'warn'],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  );
  await rename(partial, out).catch(async () => {
    await rm(partial, { recursive: true, force: true }); // another worker won the race
  });
  return out;
}
