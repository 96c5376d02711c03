import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { AppError } from '../shared/errors.js';
import type { ServerConfig } from './config.js';
import type { Tx } from './db/db.js';
import { sha256 } from './ids.js';

/**
 * The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, what every
 * authenticator app reads from an otpauth:// URI). The secret is made by the server, shown
 * once, and stored encrypted with AES-256-GCM under a key derived from MFA_ENCRYPTION_KEY
 * (or JWT_SECRET), bound to its user (a secret copied onto another user's row does not
 * decrypt). A code is accepted for its step or one step either side (clock drift), and
 * never at or below the last step accepted for the user, so a code is good once.
 */

const PERIOD_S = 30;
const ISSUER = 'FireBackup';
const RECOVERY_CODES = 10;

export class MfaSecrets {
  private readonly key: Buffer;

  constructor(config: Pick<ServerConfig, 'JWT_SECRET' | 'MFA_ENCRYPTION_KEY'>) {
    this.key = Buffer.from(
      hkdfSync(
        'sha256',
        config.MFA_ENCRYPTION_KEY ?? config.JWT_SECRET,
        'firebackup',
        'mfa-secret-v1',
        32,
      ),
    );
  }

  encrypt(userId: string, secret: Secret): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv).setAAD(Buffer.from(userId));
    const body = Buffer.concat([cipher.update(Buffer.from(secret.bytes)), cipher.final()]);
    return ['v1', iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  decrypt(userId: string, stored: string): Secret {
    const [version, iv, body, tag] = stored.split('.');
    try {
      if (version !== 'v1' || iv === undefined || body === undefined || tag === undefined)
        throw new Error(`unknown format ${version ?? ''}`);
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'))
        .setAAD(Buffer.from(userId))
        .setAuthTag(Buffer.from(tag, 'base64url'));
      const bytes = Buffer.concat([
        decipher.update(Buffer.from(body, 'base64url')),
        decipher.final(),
      ]);
      return new Secret({
        buffer: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      });
    } catch (error) {
      // Most likely MFA_ENCRYPTION_KEY (or JWT_SECRET without it) changed since enrolment.
      throw new AppError(
        'INTERNAL',
        'The second-factor secret of this account cannot be read with the server key; an admin must reset it (the MFA key changed?).',
        { cause: error },
      );
    }
  }
}

export function newTotpSecret(): Secret {
  return new Secret({ size: 20 });
}

function totp(secret: Secret, label = 'account'): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_S,
    secret,
  });
}

/** The otpauth:// URI an authenticator app reads (as text or a QR code). */
export function otpauthUri(secret: Secret, email: string): string {
  return totp(secret, email).toString();
}

/** The 30-second step `code` belongs to (±1 step for clock drift), or null when it is wrong. */
export function codeStep(secret: Secret, code: string, now: Date): number | null {
  const timestamp = now.getTime();
  const delta = totp(secret).validate({ token: code, timestamp, window: 1 });
  return delta === null ? null : Math.floor(timestamp / 1000 / PERIOD_S) + delta;
}

export interface MfaRow {
  secret_enc: string;
  enabled_at: Date | null;
}

export async function mfaRow(tx: Tx, userId: string): Promise<MfaRow | undefined> {
  const [row] = await tx.query<MfaRow>(
    'SELECT secret_enc, enabled_at FROM user_mfa WHERE user_id = $1',
    [userId],
  );
  return row;
}

/** What a new session owes: nothing, a code ('verify'), or an enrolment ('enroll'). */
export type MfaDemand = 'none' | 'verify' | 'enroll';

export async function mfaDemand(
  tx: Tx,
  config: Pick<ServerConfig, 'FORCE_MFA'>,
  userId: string,
): Promise<MfaDemand> {
  const row = await mfaRow(tx, userId);
  if (row?.enabled_at != null) return 'verify';
  return config.FORCE_MFA ? 'enroll' : 'none';
}

/**
 * Accepts a TOTP code once: the step is stored only if it is later than the last one
 * accepted (one statement, so two instances cannot both accept the same code).
 */
export async function acceptCode(
  tx: Tx,
  secrets: MfaSecrets,
  userId: string,
  row: MfaRow,
  code: string,
  now: Date,
): Promise<boolean> {
  const step = codeStep(secrets.decrypt(userId, row.secret_enc), code, now);
  if (step === null) return false;
  const taken = await tx.query(
    `UPDATE user_mfa SET last_step = $2
      WHERE user_id = $1 AND (last_step IS NULL OR last_step < $2) RETURNING user_id`,
    [userId, step],
  );
  return taken.length === 1;
}

function normaliseRecovery(code: string): string {
  return code.trim().toLowerCase().replace(/[\s-]/g, '');
}

/** Ten new one-use recovery codes (the old ones stop working); only their hashes are kept. */
export async function newRecoveryCodes(tx: Tx, userId: string): Promise<string[]> {
  await tx.query('DELETE FROM mfa_recovery_codes WHERE user_id = $1', [userId]);
  const codes: string[] = [];
  for (let i = 0; i < RECOVERY_CODES; i++) {
    const hex = randomBytes(8).toString('hex');
    const code = `${hex.slice(0, 4)}-${hex.slice(4, 8)}-${hex.slice(8, 12)}-${hex.slice(12)}`;
    codes.push(code);
    await tx.query('INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)', [
      userId,
      sha256(normaliseRecovery(code)),
    ]);
  }
  return codes;
}

/** Uses up a recovery code; false when it is unknown or was used already. */
export async function useRecoveryCode(
  tx: Tx,
  userId: string,
  code: string,
  now: Date,
): Promise<boolean> {
  const used = await tx.query(
    `UPDATE mfa_recovery_codes SET used_at = $3
      WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING user_id`,
    [userId, sha256(normaliseRecovery(code)), now],
  );
  return used.length === 1;
}
