/**
 * The renderer's origin: `app://firebackup/` serves dist/renderer with the same security
 * headers (CSP first) as the loopback web mode. A custom scheme instead of file:// keeps
 * the page out of the file system's privileges and gives it a real origin for the CSP's
 * 'self'. Built on the fetch API's Request/Response (what Electron's `protocol.handle`
 * takes), so it is tested in Node against real files.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { APP_SCHEME, isAppUrl, RENDERER_SECURITY_HEADERS } from './security.js';
import { CONTENT_TYPES } from '../shared/content-types.js';
import { noncedPage } from '../shared/security-policy.js';

/** `protocol.registerSchemesAsPrivileged` entry: a standard, secure origin with fetch. */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  privileges: { standard: true, secure: true, supportFetchAPI: true },
} as const;

/**
 * The file a request names inside `root`, or undefined. Paths without an extension are
 * screens of the single-page app (index.html routes them); nothing outside `root` is
 * ever served, whatever the path says (`..`, encoded slashes, absolute paths).
 */
export function fileForRequest(url: string, root: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0') || pathname.includes('\\')) return undefined;
  const relative =
    pathname === '/' || path.posix.extname(pathname) === '' ? '/index.html' : pathname;
  const base = path.resolve(root);
  const file = path.resolve(base, `.${path.posix.normalize(relative)}`);
  return file.startsWith(base + path.sep) ? file : undefined;
}

function respond(
  status: number,
  body: string | Uint8Array,
  type: string,
  extra: Record<string, string> = {},
): Response {
  return new Response(body, {
    status,
    headers: {
      ...RENDERER_SECURITY_HEADERS,
      'Content-Type': type,
      'Cache-Control': 'no-cache',
      ...extra,
    },
  });
}

/** An HTML page, with its own style nonce in the page and the CSP, as the web mode does (ADR 0023). */
function respondPage(html: string): Response {
  const page = noncedPage(html);
  return respond(200, page.html, CONTENT_TYPES['.html']!, {
    'Content-Security-Policy': page.contentSecurityPolicy,
  });
}

/** The `protocol.handle(APP_SCHEME, …)` handler for the built renderer in `root`. */
export function appProtocolHandler(root: string): (request: Request) => Promise<Response> {
  return async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD')
      return respond(405, 'Only GET.', 'text/plain; charset=utf-8');
    const file = fileForRequest(request.url, root);
    if (!file) return respond(404, 'Not found.', 'text/plain; charset=utf-8');
    try {
      if (!(await stat(file)).isFile()) throw new Error('not a file');
      const extension = path.extname(file).toLowerCase();
      if (extension === '.html') return respondPage(await readFile(file, 'utf8'));
      const type = CONTENT_TYPES[extension] ?? 'application/octet-stream';
      return respond(200, await readFile(file), type);
    } catch {
      return respond(
        404,
        path.basename(file) === 'index.html'
          ? 'The renderer is not built: run `npm run build`.'
          : 'Not found.',
        'text/plain; charset=utf-8',
      );
    }
  };
}
