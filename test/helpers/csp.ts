import { expect } from 'vitest';
import { pageContentSecurityPolicy } from '../../src/shared/security-policy.js';

/**
 * Asserts `header` is an HTML page's policy: the renderer's strict CSP with a style nonce
 * (ADR 0023) and nothing else added; returns the nonce.
 */
export function expectPageCsp(header: string | null | undefined): string {
  const nonce = /'nonce-([^']+)'/.exec(header ?? '')?.[1];
  expect(nonce, `no style nonce in ${header}`).toBeDefined();
  expect(header).toBe(pageContentSecurityPolicy(nonce!));
  return nonce!;
}
