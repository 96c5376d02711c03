import * as m001 from './001-initial.js';
import * as m002 from './002-backup-scope.js';
import * as m003 from './003-check-schedules.js';

/**
 * Numbered migrations, applied in order inside one transaction each; the schema version
 * is sqlite's `user_version`. Never edit a released migration: add the next number.
 */
export const MIGRATIONS: readonly { version: number; name: string; sql: string }[] = [
  { version: 1, name: 'initial', sql: m001.sql },
  { version: 2, name: 'backup-scope', sql: m002.sql },
  { version: 3, name: 'check-schedules', sql: m003.sql },
];
