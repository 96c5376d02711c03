import { randomBytes, webcrypto } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { AppError } from '../shared/errors.js';
import type { ServerConfig } from './config.js';
import type { Db, Tx } from './db/db.js';
import { newId, sha256 } from './ids.js';

/**
 * Access tokens are short JWTs (HS256 only, issuer and audience pinned) naming the user
 * and the session; refresh tokens are opaque random strings stored only as hashes,
 * rotated on every use. Presenting a refresh token that was already rotated means it was
 * copied: the whole session (token family) is revoked.
 */

const ALG = 'HS256';

/** Verified access tokens remembered per instance (a few MB at most). */
export const VERIFIED_KEPT = 10_000;

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  sessionId: string;
}

export interface AccessClaims {
  userId: string;
  sessionId: string;
}

export class Tokens {
  private readonly key: Uint8Array;
  /**
   * The same secret imported once as a WebCrypto HMAC key: given raw bytes, jose imports
   * them again on every verify, which was the largest single CPU cost of an authenticated
   * read (docs/benchmarks.md). Its algorithm is HS256's, so jose still refuses any other.
   */
  private readonly verifyKey: Promise<webcrypto.CryptoKey>;
  /**
   * Access tokens whose signature and claims were verified, with their expiry: a client
   * sends the same token with every call until it refreshes, and checking its HMAC again
   * through WebCrypto was the largest JavaScript cost of a read in the profile
   * (docs/benchmarks.md, ADR 0021). Only the exact string verified is found here, so a
   * token altered in any byte is verified afresh; the expiry is checked on every use.
   * Revocation does not depend on it (the session is checked per request, auth.ts).
   */
  private readonly verified = new Map<string, AccessClaims & { exp: number }>();

  constructor(
    private readonly config: Pick<
      ServerConfig,
      | 'JWT_SECRET'
      | 'JWT_EXPIRES_IN'
      | 'JWT_REFRESH_EXPIRES_IN'
      | 'JWT_ISSUER'
      | 'JWT_AUDIENCE'
      | 'SESSION_TIMEOUT'
    >,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.key = new TextEncoder().encode(config.JWT_SECRET);
    this.verifyKey = webcrypto.subtle.importKey(
      'raw',
      this.key,
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
  }

  async signAccess(claims: AccessClaims): Promise<string> {
    const nowSec = Math.floor(this.now().getTime() / 1000);
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ALG, typ: 'JWT' })
      .setSubject(claims.userId)
      .setIssuer(this.config.JWT_ISSUER)
      .setAudience(this.config.JWT_AUDIENCE)
      .setIssuedAt(nowSec)
      .setExpirationTime(nowSec + Math.floor(this.config.JWT_EXPIRES_IN / 1000))
      .sign(this.key);
  }

  /** Verifies signature, algorithm, issuer, audience and expiry; any failure is 401. */
  async verifyAccess(token: string): Promise<AccessClaims> {
    const known = this.verified.get(token);
    if (known !== undefined) {
      // As jose decides it: expired once the clock's second reaches `exp`.
      if (known.exp > Math.floor(this.now().getTime() / 1000))
        return { userId: known.userId, sessionId: known.sessionId };
      this.verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, await this.verifyKey, {
        algorithms: [ALG],
        issuer: this.config.JWT_ISSUER,
        audience: this.config.JWT_AUDIENCE,
        currentDate: this.now(),
        requiredClaims: ['exp', 'sub', 'sid'],
      });
      if (typeof payload.sub !== 'string' || typeof payload['sid'] !== 'string')
        throw new Error('claims of the wrong type');
      const claims = { userId: payload.sub, sessionId: payload['sid'] };
      // Bounded: the oldest entry goes first (a Map keeps insertion order).
      if (this.verified.size >= VERIFIED_KEPT)
        this.verified.delete(this.verified.keys().next().value as string);
      this.verified.set(token, { ...claims, exp: payload.exp! });
      return claims;
    } catch (error) {
      const expired = error instanceof joseErrors.JWTExpired;
      throw new AppError(
        'UNAUTHENTICATED',
        expired
          ? 'The access token has expired; refresh it or sign in again.'
          : 'The access token is not valid; sign in again.',
        { cause: error },
      );
    }
  }

  /** A new session (token family) for `userId` and its first token pair. */
  async startSession(db: Db, userId: string): Promise<TokenPair> {
    const sessionId = newId('ses');
    const expires = new Date(this.now().getTime() + this.config.JWT_REFRESH_EXPIRES_IN);
    const refreshToken = await db.system(async (tx) => {
      await tx.query(
        'INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)',
        [sessionId, userId, this.now(), expires],
      );
      return this.issueRefresh(tx, sessionId, expires);
    });
    return this.pair(userId, sessionId, refreshToken);
  }

  /**
   * Exchanges a refresh token for a new pair. A token already used revokes its family
   * (`onReuse` records it in the audit log) and the call fails.
   */
  async rotate(
    db: Db,
    refreshToken: string,
    hooks: {
      onReuse: (tx: Tx, session: { id: string; userId: string }) => Promise<void>;
      /** SESSION_TIMEOUT passed since the session was last seen: end it (and record it). */
      onIdle: (tx: Tx, session: { id: string; userId: string }) => Promise<void>;
      /** Throws to refuse before anything changes (a browser's missing CSRF token). */
      check?: (session: { id: string; userId: string }) => void;
    },
  ): Promise<TokenPair & { userId: string }> {
    const invalid = () =>
      new AppError('UNAUTHENTICATED', 'The refresh token is not valid; sign in again.');
    const outcome = await db.system(async (tx) => {
      const [row] = await tx.query<{
        session_id: string;
        used_at: Date | null;
        expires_at: Date;
        user_id: string;
        revoked_at: Date | null;
        session_expires: Date;
        last_seen_at: Date;
      }>(
        `SELECT r.session_id, r.used_at, r.expires_at, s.user_id, s.revoked_at,
                s.expires_at AS session_expires, s.last_seen_at
           FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id
          WHERE r.token_hash = $1 FOR UPDATE`,
        [sha256(refreshToken)],
      );
      if (row === undefined) return { ok: false as const };
      const session = { id: row.session_id, userId: row.user_id };
      hooks.check?.(session);
      if (row.used_at !== null) {
        if (row.revoked_at === null) {
          await tx.query(
            `UPDATE sessions SET revoked_at = $2, revoked_reason = 'refresh token reused' WHERE id = $1`,
            [row.session_id, this.now()],
          );
          await hooks.onReuse(tx, session);
        }
        return { ok: false as const };
      }
      const now = this.now();
      if (row.revoked_at !== null || row.expires_at <= now) return { ok: false as const };
      const timeout = this.config.SESSION_TIMEOUT;
      if (timeout !== undefined && now.getTime() - row.last_seen_at.getTime() > timeout) {
        // A refresh token must not revive a session that went idle.
        await hooks.onIdle(tx, session);
        return { ok: false as const };
      }
      await tx.query('UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1', [
        sha256(refreshToken),
        now,
      ]);
      await tx.query('UPDATE sessions SET last_seen_at = $2 WHERE id = $1', [row.session_id, now]);
      const next = await this.issueRefresh(tx, row.session_id, row.session_expires);
      return { ok: true as const, sessionId: row.session_id, userId: row.user_id, next };
    });
    // The reuse revocation must commit, so the failure is thrown after the transaction.
    if (!outcome.ok) throw invalid();
    return {
      ...(await this.pair(outcome.userId, outcome.sessionId, outcome.next)),
      userId: outcome.userId,
    };
  }

  private async issueRefresh(tx: Tx, sessionId: string, expires: Date): Promise<string> {
    const token = `fbr_${randomBytes(32).toString('base64url')}`;
    await tx.query(
      'INSERT INTO refresh_tokens (token_hash, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)',
      [sha256(token), sessionId, this.now(), expires],
    );
    return token;
  }

  private async pair(userId: string, sessionId: string, refreshToken: string): Promise<TokenPair> {
    return {
      accessToken: await this.signAccess({ userId, sessionId }),
      refreshToken,
      expiresIn: Math.floor(this.config.JWT_EXPIRES_IN / 1000),
      sessionId,
    };
  }
}
