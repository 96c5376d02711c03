import { createHash, randomBytes } from 'node:crypto';

/**
 * PKCE (RFC 7636) and the random values of a sign-in: the native client and the server
 * each run one authorization-code flow with its own verifier, so both use these.
 */

/** 256 random bits, base64url: a PKCE verifier (43 characters), a state or a nonce. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The S256 challenge of a verifier: base64url(SHA-256(verifier)). */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/** A verifier or challenge as RFC 7636 §4.1 allows: 43 to 128 unreserved characters. */
export const PKCE_VALUE = /^[A-Za-z0-9._~-]{43,128}$/;
