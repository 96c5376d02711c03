import { existsSync } from 'node:fs';
import path from 'node:path';
import { catalogFileFor } from '../catalog/location.js';
import type { Runtime } from './runtime.js';

/**
 * Long-running front ends (the daemon, `firebackup ui`, the desktop app) follow a catalog
 * moved by another one (Settings → Catalog folder): every few seconds they compare the
 * shared settings' catalog with the one they have open and, at a quiet moment (no job of
 * theirs running) and once the new file is there, switch to it. Until then they keep the
 * old one, whose file the mover renamed aside: what they write meanwhile is kept there.
 * Returns a function that stops following.
 */
export function followCatalogMoves(
  runtime: Pick<Runtime, 'catalog' | 'jobs'>,
  env: NodeJS.ProcessEnv,
  log: (message: string) => void,
  intervalMs = 5000,
): () => void {
  const check = (): void => {
    let wanted: string;
    try {
      wanted = catalogFileFor(env);
    } catch {
      return; // a damaged settings file: keep the catalog in use (the next start says why)
    }
    if (path.resolve(wanted) === path.resolve(runtime.catalog.db.name)) return;
    if (!existsSync(wanted) || runtime.jobs.active().length > 0) return;
    runtime.catalog.relocate(wanted);
    log(`The catalog moved to ${wanted} (Settings → Catalog folder); using it from now on.`);
  };
  const timer = setInterval(check, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
