import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('./src/renderer', import.meta.url));
const outDir = fileURLToPath(new URL('./dist/renderer', import.meta.url));

/**
 * The renderer's build: src/renderer → dist/renderer (served by `firebackup ui` and, in
 * Electron, by the app:// protocol). Hashed asset names (cacheable, and a stale tab
 * cannot mix versions), no inline script or style anywhere (the CSP is
 * `script-src 'self'; style-src 'self'`), relative URLs so both hosts can serve it.
 */
export default defineConfig({
  root,
  base: './',
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    // Nothing inlined as data: URLs into scripts; the module-preload polyfill would be
    // an inline script in older Vite versions and every browser we target has it.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
  server: { host: '127.0.0.1' },
});
