/**
 * The first catalog schema. Times are ISO-8601 UTC strings (sortable, readable in the
 * sqlite shell); small structured values are JSON text. Secrets never go in here.
 */
export const sql = /* sql */ `
CREATE TABLE projects (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  firebase_project_id TEXT NOT NULL,
  database_id TEXT NOT NULL DEFAULT '(default)',
  -- a path to a service-account file, never its contents
  credentials_path TEXT,
  emulator_host TEXT,
  created_at TEXT NOT NULL
);

CREATE TABLE destinations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  url TEXT NOT NULL UNIQUE,
  -- non-secret options only (region, endpoint); credentials come from the environment
  options_json TEXT NOT NULL DEFAULT '{}',
  created_at TEXT NOT NULL
);

CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL CHECK (kind IN ('backup', 'verify')),
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

CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL,
  trigger TEXT NOT NULL,
  project_id TEXT,
  destination_id TEXT,
  schedule_id TEXT,
  backup_id TEXT,
  scheduled_for TEXT,
  started_at TEXT,
  finished_at TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  counts_json TEXT,
  bytes INTEGER,
  error_json TEXT,
  detail_json TEXT,
  -- which process runs it, so a crashed run can be told from a running one
  owner_pid INTEGER,
  owner_host TEXT,
  created_at TEXT NOT NULL
);
CREATE INDEX runs_by_time ON runs (created_at DESC);
CREATE INDEX runs_by_schedule ON runs (schedule_id, created_at DESC);

CREATE TABLE backups (
  destination_id TEXT NOT NULL,
  id TEXT NOT NULL,
  firebase_project_id TEXT,
  created_at TEXT NOT NULL,
  archive_key TEXT NOT NULL,
  manifest_key TEXT,
  counts_json TEXT,
  bytes INTEGER,
  verified_at TEXT,
  verify_status TEXT CHECK (verify_status IN ('ok', 'failed')),
  verify_error TEXT,
  PRIMARY KEY (destination_id, id)
);

CREATE TABLE deletions (
  destination_id TEXT NOT NULL,
  backup_id TEXT NOT NULL,
  deleted_at TEXT NOT NULL,
  run_id TEXT,
  reason TEXT NOT NULL
);

CREATE TABLE locks (
  name TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  acquired_at TEXT NOT NULL,
  heartbeat_at TEXT NOT NULL
);
`;
