import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Identity } from './auth.js';
import type { GoogleSignIn } from './oauth-config.js';
import { secureUrlProblem } from './oauth-config.js';

/**
 * The relying-party side of Google's OpenID Connect (or any issuer's: OAUTH_ISSUER), for
 * the authorization-code flow with PKCE: endpoints from the issuer's discovery document
 * (fetched once, again after a failure), the code exchanged at its token endpoint with
 * the client secret, and the id token verified against its published keys (jose caches
 * them and fetches again when a token names a key it has not seen).
 */

/** A sign-in the provider or its id token failed: the reason is audited, never a token. */
export class SignInRefused extends Error {}

const Discovery = z.object({
  issuer: z.string(),
  authorization_endpoint: z.string().url(),
  token_endpoint: z.string().url(),
  jwks_uri: z.string().url(),
});
type Discovery = z.infer<typeof Discovery>;

const TokenAnswer = z.object({ id_token: z.string().min(1) });

/** A provider that does not answer within this is treated as down (the user may retry). */
const TIMEOUT_MS = 10_000;
/** Clock difference tolerated between the provider and this server. */
const CLOCK_TOLERANCE_S = 30;

export class OidcClient {
  private discovery: Promise<{ doc: Discovery; keys: JWTVerifyGetKey }> | undefined;

  constructor(
    private readonly google: GoogleSignIn,
    private readonly now: () => Date,
  ) {}

  private endpoints(): Promise<{ doc: Discovery; keys: JWTVerifyGetKey }> {
    this.discovery ??= this.discover().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  private async discover(): Promise<{ doc: Discovery; keys: JWTVerifyGetKey }> {
    const url = `${this.google.issuer}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) throw new Error(`${url} answered ${response.status}`);
    const doc = Discovery.parse(await response.json());
    // OpenID Connect Discovery §4.3: the document must name the issuer it was fetched from.
    if (doc.issuer.replace(/\/$/, '') !== this.google.issuer)
      throw new Error(`${url} names another issuer (${doc.issuer})`);
    for (const endpoint of [doc.authorization_endpoint, doc.token_endpoint, doc.jwks_uri]) {
      const problem = secureUrlProblem(endpoint);
      if (problem !== undefined) throw new Error(`the provider's endpoint ${problem}`);
    }
    return {
      doc,
      keys: createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: TIMEOUT_MS }),
    };
  }

  /** Where to send the browser: the provider's sign-in for this flow's state, nonce, PKCE. */
  async authorizationUrl(flow: { state: string; nonce: string; codeChallenge: string }) {
    const { doc } = await this.endpoints();
    const url = new URL(doc.authorization_endpoint);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: this.google.clientId,
      redirect_uri: this.google.callbackUrl,
      scope: this.google.scopes.join(' '),
      state: flow.state,
      nonce: flow.nonce,
      code_challenge: flow.codeChallenge,
      code_challenge_method: 'S256',
    }).toString();
    return url.href;
  }

  /** Exchanges the provider's code (with this server's PKCE verifier) for a checked identity. */
  async signIn(code: string, codeVerifier: string, nonce: string): Promise<Identity> {
    const { doc, keys } = await this.endpoints();
    const response = await fetch(doc.token_endpoint, {
      method: 'POST',
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: this.google.callbackUrl,
        code_verifier: codeVerifier,
        client_id: this.google.clientId,
        client_secret: this.google.clientSecret,
      }).toString(),
    });
    const answer: unknown = await response.json().catch(() => ({}));
    if (!response.ok) {
      // Only the OAuth error code: the description may echo what was sent.
      const error = (answer as { error?: unknown }).error;
      throw new SignInRefused(
        `the provider refused the code (${response.status} ${typeof error === 'string' ? error : ''})`.trim(),
      );
    }
    const parsed = TokenAnswer.safeParse(answer);
    if (!parsed.success) throw new SignInRefused('the provider answered without an id token');
    return this.verifyIdToken(parsed.data.id_token, nonce, keys);
  }

  private async verifyIdToken(
    idToken: string,
    nonce: string,
    keys: JWTVerifyGetKey,
  ): Promise<Identity> {
    let payload;
    try {
      ({ payload } = await jwtVerify(idToken, keys, {
        // Google signs with RS256; pinning it refuses `none` and HMAC with a public key.
        algorithms: ['RS256'],
        issuer: this.google.issuer,
        audience: this.google.clientId,
        currentDate: this.now(),
        clockTolerance: CLOCK_TOLERANCE_S,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      throw new SignInRefused(`id token refused: ${(error as Error).message}`);
    }
    // With several audiences the token must have been issued to us (OIDC Core §3.1.3.7).
    if (
      Array.isArray(payload.aud) &&
      payload.aud.length > 1 &&
      payload.azp !== this.google.clientId
    )
      throw new SignInRefused('id token refused: "azp" is not this client');
    if (payload['nonce'] !== nonce)
      throw new SignInRefused('id token refused: its "nonce" is not the one this sign-in sent');
    const email = payload['email'];
    if (typeof email !== 'string' || email === '')
      throw new SignInRefused(
        'id token refused: it has no email (OAUTH_SCOPES must include email)',
      );
    if (payload['email_verified'] !== true)
      throw new SignInRefused('the Google account’s email is not verified');
    const name = payload['name'];
    return { email, ...(typeof name === 'string' ? { name } : {}) };
  }
}
