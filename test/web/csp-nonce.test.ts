/**
 * The per-page style nonce (ADR 0023) as pure logic: its randomness and shape, the policy
 * it goes into (style-src only, never script-src), the page it is written into, and the
 * renderer's start-up handing it to the style injector. The browser proof is
 * test/browser/csp-nonce.browser.test.ts.
 */
import { getNonce } from 'get-nonce';
import { describe, expect, it } from 'vitest';
import { adoptStyleNonce, type PageHead } from '../../src/renderer/csp-nonce.js';
import {
  CONTENT_SECURITY_POLICY,
  newStyleNonce,
  noncedPage,
  pageContentSecurityPolicy,
} from '../../src/shared/security-policy.js';

const directives = (csp: string) => csp.split('; ');

describe('the per-page style nonce', () => {
  it('is 144 random bits, base64, never the same twice', () => {
    const nonces = Array.from({ length: 2000 }, newStyleNonce);
    for (const n of nonces) {
      expect(n).toMatch(/^[A-Za-z0-9+/]{24}$/);
      expect(Buffer.from(n, 'base64')).toHaveLength(18);
    }
    expect(new Set(nonces).size).toBe(nonces.length);
  });

  it('goes into style-src only; every other directive is the strict policy’s', () => {
    const nonce = newStyleNonce();
    const page = directives(pageContentSecurityPolicy(nonce));
    const base = directives(CONTENT_SECURITY_POLICY);
    expect(page).toHaveLength(base.length);
    for (const [i, d] of page.entries()) {
      if (d.startsWith('style-src ')) expect(d).toBe(`style-src 'self' 'nonce-${nonce}'`);
      else expect(d).toBe(base[i]);
    }
    expect(page).toContain("script-src 'self'");
  });

  it('refuses anything but a nonce’s shape (nothing can be smuggled into the policy)', () => {
    for (const bad of [
      '',
      'short',
      "AAAAAAAAAAAAAAAAAAAAAAAA'; script-src *",
      'A'.repeat(23) + ' ',
    ])
      expect(() => pageContentSecurityPolicy(bad)).toThrow(/nonce/);
  });

  it('is written into the page’s meta and its policy, fresh for every page', () => {
    const html = '<head><meta name="csp-nonce" content="" /><title>x</title></head>';
    const a = noncedPage(html);
    const b = noncedPage(html);
    const nonceOf = (csp: string) => /'nonce-([^']+)'/.exec(csp)![1]!;
    expect(a.html).toBe(
      `<head><meta name="csp-nonce" content="${nonceOf(a.contentSecurityPolicy)}" /><title>x</title></head>`,
    );
    expect(nonceOf(a.contentSecurityPolicy)).not.toBe(nonceOf(b.contentSecurityPolicy));
    // Vite may write the tag without the self-closing slash; a page without one is unchanged.
    expect(noncedPage('<meta name="csp-nonce" content="">').html).toMatch(/content="[^"]{24}"/);
    expect(noncedPage('<title>placeholder</title>').html).toBe('<title>placeholder</title>');
  });

  it('reaches the style injector at the renderer’s start-up, only when the page has one', () => {
    const page = (content: string | undefined): PageHead => ({
      querySelector: () => (content === undefined ? null : { getAttribute: () => content }),
    });
    expect(adoptStyleNonce(page(undefined))).toBeUndefined();
    expect(adoptStyleNonce(page(''))).toBeUndefined(); // served without a nonce (Vite dev)
    expect(getNonce()).toBeUndefined();
    const nonce = newStyleNonce();
    expect(adoptStyleNonce(page(nonce))).toBe(nonce);
    expect(getNonce()).toBe(nonce); // what react-style-singleton puts on its <style>
  });
});
