import { setNonce } from 'get-nonce';

/** What is read of the page (a Document; narrow so it is testable without a DOM). */
export interface PageHead {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
}

/**
 * Hands the page's style nonce to the libraries that inject <style> elements at run time
 * (Radix dialogs' scroll lock: react-remove-scroll → react-style-singleton, which asks
 * `get-nonce`), so their styles apply under the strict CSP (ADR 0023). The server writes a
 * fresh nonce into `<meta name="csp-nonce">` of each page it serves; a page served
 * without one (the Vite dev server) leaves the injector as it was. get-nonce is
 * react-style-singleton's own dependency, imported here so both share the one instance.
 * Must run before the first dialog opens: main.tsx calls it first.
 */
export function adoptStyleNonce(doc: PageHead): string | undefined {
  const nonce = doc.querySelector('meta[name="csp-nonce"]')?.getAttribute('content') ?? '';
  if (!/^[A-Za-z0-9+/_-]{22,}={0,2}$/.test(nonce)) return undefined;
  setNonce(nonce);
  return nonce;
}
