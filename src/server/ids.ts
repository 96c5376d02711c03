import { createHash, randomBytes } from 'node:crypto';

/** Opaque ids with a type prefix (usr_, org_, ses_, key_, prj_, bkp_), 128 random bits. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

/** Secrets (refresh tokens, API keys) are stored only as this hash. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}
