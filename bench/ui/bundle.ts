/**
 * The renderer's initial bundle: what index.html makes the browser fetch before the first
 * screen (the entry script, its modulepreloaded chunks, stylesheets), gzipped as a server
 * would send it. Lazily imported chunks are not initial and are not counted.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/** The budget (bytes, gzipped) the initial bundle must stay under; see docs/benchmarks.md. */
export const INITIAL_BUNDLE_BUDGET = 350 * 1024;

export interface BundleFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export async function initialBundle(rendererDir: string): Promise<BundleFile[]> {
  const html = await readFile(path.join(rendererDir, 'index.html'), 'utf8');
  const refs = [
    ...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*\brel="(?:stylesheet|modulepreload)"[^>]*\bhref="([^"]+)"/g),
  ].map((m) => m[1]!);
  return Promise.all(
    [...new Set(refs)].map(async (ref) => {
      const content = await readFile(path.join(rendererDir, ref));
      return { file: ref, bytes: content.length, gzipBytes: gzipSync(content).length };
    }),
  );
}

export const totalGzip = (files: BundleFile[]): number =>
  files.reduce((sum, f) => sum + f.gzipBytes, 0);
