/**
 * The renderer's initial bundle stays under its budget (issue #8, docs/benchmarks.md):
 * measured on a fresh build of the current sources, gzipped. No browser needed.
 */
import { describe, expect, it } from 'vitest';
import { INITIAL_BUNDLE_BUDGET, initialBundle, totalGzip } from '../../bench/ui/bundle.js';
import { rendererConfig, rendererForTests } from './renderer-build.js';

describe.skipIf(!rendererConfig())('the renderer’s initial bundle', () => {
  it(`is under ${INITIAL_BUNDLE_BUDGET / 1024} KiB gzipped (entry, preloads, CSS)`, async () => {
    const files = await initialBundle((await rendererForTests())!);
    expect(files.some((f) => f.file.endsWith('.js'))).toBe(true);
    expect(files.some((f) => f.file.endsWith('.css'))).toBe(true);
    const total = totalGzip(files);
    expect(total, JSON.stringify(files)).toBeLessThan(INITIAL_BUNDLE_BUDGET);
  }, 180_000);
});
