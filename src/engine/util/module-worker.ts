/**
 * Worker threads on the engine's own modules, wherever the engine runs: compiled (the
 * CLI from dist/, the desktop app's main process, which reads the worker from its asar
 * archive like any other module) or from source (tests under vitest, `node --import tsx`).
 *
 * From source the worker cannot simply be given the `.ts` file: Node 20 does not pass
 * the module hooks that `--import tsx` registers on to worker threads (each worker would
 * need its own), so the worker starts from a two-line bootstrap that registers tsx's
 * require hook and loads the module through it. The module (and what it imports) must
 * then not use `import.meta`.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/** The module `name` beside `moduleUrl` (an `import.meta.url`), with the same extension. */
export function siblingModule(moduleUrl: string, name: string): URL {
  const extension = /\.[cm]?[jt]s$/.exec(new URL(moduleUrl).pathname)?.[0] ?? '.js';
  return new URL(`./${name}${extension}`, moduleUrl);
}

/** A worker thread running `moduleUrl` (see siblingModule), compiled or from source. */
export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!/\.[cm]?ts$/.test(moduleUrl.pathname)) return new Worker(moduleUrl, options);
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const bootstrap = `require(${JSON.stringify(tsx)}).register();\nrequire(${JSON.stringify(fileURLToPath(moduleUrl))});`;
  return new Worker(bootstrap, { ...options, eval: true });
}
