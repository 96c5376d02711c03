/**
 * Content types of the renderer's files, for the two places that serve them: the Electron
 * app's app:// protocol (src/main/protocol.ts) and the loopback web mode
 * (src/cli/web/server.ts). Unknown extensions are served as application/octet-stream,
 * which `X-Content-Type-Options: nosniff` keeps from being run.
 */
export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.webp': 'image/webp',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};
