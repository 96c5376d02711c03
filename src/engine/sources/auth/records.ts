/**
 * The Auth records of the archive (docs/design.md §3.5) and their conversion from and
 * to the Identity Toolkit v1 `UserInfo` JSON, which is both what `accounts:batchGet`
 * lists and what `accounts:batchCreate` imports.
 *
 * A user record is that `UserInfo` object kept verbatim (every field, known or future:
 * a backup must not drop what a newer service adds), with one change: `passwordHash`
 * and `salt` hold the bytes in standard base64. The service sends them as URL-safe
 * base64 of the hash bytes; the Auth emulator sends its readable fake hash
 * (`fakeHash:salt=…:password=…`) and salt as plain strings, which the hash
 * configuration's algorithm tells apart (`EMULATOR_HASH_ALGORITHM`), so that both
 * round-trip byte for byte.
 */
import { AppError } from '../../../shared/errors.js';

/** The Identity Toolkit `UserInfo` JSON, as listed and imported. */
export interface ApiUserInfo {
  localId: string;
  passwordHash?: string;
  salt?: string;
  [field: string]: unknown;
}

/** An archived user: `UserInfo` with passwordHash and salt as standard base64 bytes. */
export type AuthUserRecord = ApiUserInfo;

/**
 * The project's password hash parameters: `signIn.hashConfig` of the Identity Toolkit
 * admin API (`projects.getConfig`), verbatim. signerKey and saltSeparator are base64.
 */
export interface AuthHashConfig {
  algorithm: string;
  signerKey?: string;
  saltSeparator?: string;
  rounds?: number;
  memoryCost?: number;
  [field: string]: unknown;
}

export interface AuthHashConfigRecord {
  /** Where the configuration came from: the project's config, or the Auth emulator's. */
  source: 'project' | 'emulator';
  project: string;
  /** The tenant whose users follow (multi-tenant projects); absent for the project's own. */
  tenantId?: string;
  hashConfig: AuthHashConfig;
}

/**
 * The Auth emulator has no hash configuration: it stores `fakeHash:salt=<salt>:password=<password>`
 * as the hash and compares strings. Its users are archived under this pseudo-algorithm,
 * whose hash and salt bytes are the UTF-8 of those strings.
 */
export const EMULATOR_HASH_ALGORITHM = 'FIREBASE_AUTH_EMULATOR';

function isEmulatorHash(config: AuthHashConfig): boolean {
  return config.algorithm === EMULATOR_HASH_ALGORITHM;
}

/** The service's representation of hash bytes → standard base64. */
function hashBytesFromApi(value: string, config: AuthHashConfig): string {
  return isEmulatorHash(config)
    ? Buffer.from(value, 'utf8').toString('base64')
    : Buffer.from(value, 'base64').toString('base64'); // 'base64' reads URL-safe too
}

/** Standard base64 bytes → what the service expects for this algorithm. */
function hashBytesToApi(value: string, config: AuthHashConfig): string {
  const bytes = Buffer.from(value, 'base64');
  return isEmulatorHash(config) ? bytes.toString('utf8') : bytes.toString('base64url');
}

export function toUserRecord(user: ApiUserInfo, config: AuthHashConfig): AuthUserRecord {
  const record: AuthUserRecord = { ...user };
  if (typeof user.passwordHash === 'string')
    record.passwordHash = hashBytesFromApi(user.passwordHash, config);
  if (typeof user.salt === 'string') record.salt = hashBytesFromApi(user.salt, config);
  return record;
}

export function toApiUser(record: AuthUserRecord, config: AuthHashConfig): ApiUserInfo {
  const user: ApiUserInfo = { ...record };
  if (typeof record.passwordHash === 'string')
    user.passwordHash = hashBytesToApi(record.passwordHash, config);
  if (typeof record.salt === 'string') user.salt = hashBytesToApi(record.salt, config);
  return user;
}

/** Checks a user record read from an archive (the archive is authenticated; this catches bugs). */
export function parseUserRecord(value: unknown): AuthUserRecord {
  const record = value as AuthUserRecord | null;
  if (typeof record !== 'object' || record === null || typeof record.localId !== 'string') {
    throw new AppError('ARCHIVE_CORRUPT', 'An Auth user record in the archive has no uid.');
  }
  return record;
}

export function parseHashConfigRecord(value: unknown): AuthHashConfigRecord {
  const record = value as AuthHashConfigRecord | null;
  if (
    typeof record !== 'object' ||
    record === null ||
    typeof record.hashConfig?.algorithm !== 'string'
  ) {
    throw new AppError(
      'ARCHIVE_CORRUPT',
      'The Auth hash configuration record in the archive is malformed.',
    );
  }
  return record;
}

/**
 * Whether users hashed under `from` can sign in after an import under `to`'s settings.
 * The same algorithm is required; the emulator's fake hashes work only in an emulator.
 */
export function hashConfigMismatch(
  from: AuthHashConfig,
  targetIsEmulator: boolean,
): string | undefined {
  if (isEmulatorHash(from) && !targetIsEmulator) {
    return 'The backup was taken from the Auth emulator, whose password hashes are fakes that no real project can check.';
  }
  return undefined;
}
