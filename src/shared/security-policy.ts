/**
 * The renderer's content policy, written once: the Electron app's `app://` protocol and
 * the loopback web mode send the same header, so the app is no weaker in a browser.
 * Scripts and styles only from the app itself (no inline script, no remote content), no
 * framing, no <base> or form tricks; `data:` images for icons rendered in place.
 *
 * One exception for styles (ADR 0023): each HTML page is served with a fresh random nonce
 * in `style-src` and in a `<meta name="csp-nonce">` the renderer reads at start-up, so the
 * <style> elements its libraries inject (Radix dialogs' scroll lock) carry it and apply.
 * A style without that nonce (injected markup) is still refused; `script-src` never gets
 * a nonce.
 */
const directives = (styleSrc: string): string =>
  [
    "default-src 'self'",
    "script-src 'self'",
    styleSrc,
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

/** The policy of every response that is not an HTML page (scripts, styles, images). */
export const CONTENT_SECURITY_POLICY = directives("style-src 'self'");

/** A page's policy: its own style nonce added to `style-src`, nowhere else. */
export function pageContentSecurityPolicy(styleNonce: string): string {
  if (!NONCE_SHAPE.test(styleNonce)) throw new Error('A CSP nonce is base64 of random bytes.');
  return directives(`style-src 'self' 'nonce-${styleNonce}'`);
}

/** 18 random bytes (144 bits, ≥ the 128 CSP asks for), base64 without padding. */
const NONCE_BYTES = 18;
const NONCE_SHAPE = /^[A-Za-z0-9+/]{24}$/;

/** A fresh nonce from the platform's CSPRNG (Web Crypto: Node, Electron and browsers). */
export function newStyleNonce(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  return btoa(String.fromCharCode(...bytes));
}

/** The element the renderer's index.html carries, its content replaced in each response. */
export const CSP_NONCE_META = 'csp-nonce';
const NONCE_META = /<meta name="csp-nonce" content="[^"]*"\s*\/?>/;

/**
 * An HTML page ready to send: a nonce of its own (never reused: one per call), written
 * into its `<meta name="csp-nonce">` (when it has one) and its Content-Security-Policy.
 */
export function noncedPage(html: string): { html: string; contentSecurityPolicy: string } {
  const nonce = newStyleNonce();
  return {
    html: html.replace(NONCE_META, `<meta name="${CSP_NONCE_META}" content="${nonce}" />`),
    contentSecurityPolicy: pageContentSecurityPolicy(nonce),
  };
}

/** Headers on every page and asset the renderer is served with (a page's CSP: see noncedPage). */
export const RENDERER_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
