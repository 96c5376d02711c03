/**
 * Schedules of kind "check" (a whole-destination check on a timetable). SQLite cannot
 * change a CHECK constraint in place, so the table is rebuilt with the same columns;
 * nothing references schedules by foreign key. Independent of migration 002.
 */
export const sql = /* sql */ `
CREATE TABLE schedules_003 (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('backup', 'verify', 'check')),
  project_id TEXT NOT NULL REFERENCES projects(id),
  destination_id TEXT NOT NULL REFERENCES destinations(id),
  cron TEXT NOT NULL,
  time_zone TEXT NOT NULL,
  config_json TEXT NOT NULL,
  enabled INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL,
  -- the latest cron occurrence already handled (run or reported missed)
  last_scheduled_for TEXT
);
INSERT INTO schedules_003 (id, name, kind, project_id, destination_id, cron, time_zone,
  config_json, enabled, created_at, last_scheduled_for)
  SELECT id, name, kind, project_id, destination_id, cron, time_zone,
    config_json, enabled, created_at, last_scheduled_for FROM schedules;
DROP TABLE schedules;
ALTER TABLE schedules_003 RENAME TO schedules;
`;
