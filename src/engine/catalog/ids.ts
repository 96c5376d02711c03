import { randomBytes } from 'node:crypto';

/** Short, sortable-enough, prefixed ids ("run_lq3k9x_4f1a2b3c") that say what they name. */
export function newId(prefix: string, now: Date = new Date()): string {
  return `${prefix}_${now.getTime().toString(36)}_${randomBytes(4).toString('hex')}`;
}
