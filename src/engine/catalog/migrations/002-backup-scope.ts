/**
 * Each backup's retention scope, from its manifest: the database, the schedule that made
 * it (null: a manual backup) and the collection selection (null: an older manifest that
 * did not record it). Retention only ever considers backups of one scope.
 */
export const sql = /* sql */ `
ALTER TABLE backups ADD COLUMN database_id TEXT;
ALTER TABLE backups ADD COLUMN schedule_id TEXT;
ALTER TABLE backups ADD COLUMN selection_json TEXT;
`;
