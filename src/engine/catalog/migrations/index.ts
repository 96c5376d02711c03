import * as m001 from './001-initial.js';
import * as m002 from './002-backup-scope.js';

/**
 * Numbered migrations, applied in order inside one transaction each; the schema version
 * is sqlite's `user_version`. Never edit a released migration: add the next number.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: m001.sql },
  { version: 2, name: 'backup-scope', sql: m002.sql },
];
