/**
 * Numbered SQL migrations of the organisation server. The same SQL runs on the embedded
 * PGlite and on PostgreSQL (DATABASE_URL); never edit an applied one, add the next number.
 *
 * Tenant tables carry organisation_id and have row-level security FORCED (so even their
 * owner is filtered) with a policy on the `app.org_id` setting. The server runs tenant
 * queries as the non-superuser role `firebackup_app` (superusers bypass RLS entirely), so
 * a query that forgot to name the organisation sees nothing instead of everything.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const APP_ROLE = 'firebackup_app';

const TENANT_TABLES = ['memberships', 'api_keys', 'projects', 'backups'] as const;

function tenantPolicy(table: string, column = 'organisation_id'): string {
  return `
ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE ${table} FORCE ROW LEVEL SECURITY;
CREATE POLICY ${table}_tenant ON ${table}
  USING (${column} = current_setting('app.org_id', true))
  WITH CHECK (${column} = current_setting('app.org_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON ${table} TO ${APP_ROLE};
${serverPolicy(table)}`;
}

/**
 * The server's own login (the tables' owner, often not a superuser on managed PostgreSQL)
 * needs the cross-organisation queries of sign-in and sessions. FORCE makes policies apply
 * to the owner too, so it gets a policy of its own that never matches the tenant role.
 */
function serverPolicy(table: string): string {
  return `CREATE POLICY ${table}_server ON ${table}
  USING (current_user <> '${APP_ROLE}') WITH CHECK (current_user <> '${APP_ROLE}');`;
}

const initial = `
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
    CREATE ROLE ${APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
  END IF;
  -- A non-superuser server login must be allowed to SET ROLE to it.
  IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
    EXECUTE format('GRANT ${APP_ROLE} TO %I', current_user);
  END IF;
END $$;

CREATE TABLE users (
  id text PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text,
  created_at timestamptz NOT NULL DEFAULT now()
);
-- Member lists show names and emails; users are not a tenant table (one person may be in
-- several organisations), so the tenant role reads only these columns.
GRANT SELECT (id, email, name) ON users TO ${APP_ROLE};

CREATE TABLE organisations (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_by text NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE organisations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organisations FORCE ROW LEVEL SECURITY;
CREATE POLICY organisations_tenant ON organisations
  USING (id = current_setting('app.org_id', true))
  WITH CHECK (id = current_setting('app.org_id', true));
GRANT SELECT, UPDATE, DELETE ON organisations TO ${APP_ROLE};
${serverPolicy('organisations')}

CREATE TABLE memberships (
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  user_id text NOT NULL REFERENCES users(id),
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, user_id)
);

-- A session is one refresh-token family: every rotation stays in it, and reuse of a
-- rotated token revokes it (and with it every access token naming it).
CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  revoked_reason text
);

CREATE TABLE refresh_tokens (
  token_hash text PRIMARY KEY,
  session_id text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  name text NOT NULL,
  prefix text NOT NULL,
  key_hash text NOT NULL UNIQUE,
  scopes text[] NOT NULL,
  created_by text NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);

CREATE TABLE projects (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  name text NOT NULL,
  firebase_project_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Backup records are metadata only: the archives and keys never reach the server.
CREATE TABLE backups (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  created_by text NOT NULL,
  key_id text,
  size_bytes bigint,
  document_count bigint
);

-- One hash chain per organisation (chain '-' holds server-wide events such as failed
-- sign-ins). Each entry stores the previous entry's hash; audit_heads remembers the last
-- one so a deleted tail is detected too.
CREATE TABLE audit_log (
  chain text NOT NULL,
  seq bigint NOT NULL,
  entry text NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE TABLE audit_heads (
  chain text PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL
);
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only';
END $f$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
${tenantPolicy('audit_log', 'chain')}
${tenantPolicy('audit_heads', 'chain')}
REVOKE UPDATE, DELETE ON audit_log FROM ${APP_ROLE};
${TENANT_TABLES.map((t) => tenantPolicy(t)).join('\n')}
`;

/**
 * Appending to an audit chain in one statement: the head row stays locked (serialising the
 * organisation's appenders, across instances too) for as short a time as possible, since
 * every audited request of the organisation queues on it. The hash is the one audit.ts
 * verifies: SHA-256 of the previous hash, a newline and the entry's text. The chain's head
 * row is created first if missing, so two first appends cannot both take seq 1.
 */
const auditAppend = `
CREATE FUNCTION audit_append(p_chain text, p_entry text) RETURNS bigint
LANGUAGE plpgsql AS $f$
DECLARE
  v_seq bigint;
  v_prev text;
  v_hash text;
BEGIN
  INSERT INTO audit_heads (chain, seq, hash) VALUES (p_chain, 0, repeat('0', 64))
    ON CONFLICT (chain) DO NOTHING;
  SELECT seq, hash INTO v_seq, v_prev FROM audit_heads WHERE chain = p_chain FOR UPDATE;
  v_seq := v_seq + 1;
  v_hash := encode(sha256(convert_to(v_prev || E'\\n' || p_entry, 'UTF8')), 'hex');
  INSERT INTO audit_log (chain, seq, entry, prev_hash, hash)
    VALUES (p_chain, v_seq, p_entry, v_prev, v_hash);
  UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE chain = p_chain;
  RETURN v_seq;
END $f$;
`;

/**
 * Retention (AUDIT_LOG_RETENTION_DAYS) removes a chain's oldest entries but keeps it
 * verifiable: audit_anchors records the sequence number and hash of the last entry removed,
 * and verify starts from there. The append-only trigger lets a DELETE through only inside
 * a pruning transaction (app.audit_prune) and only for entries at or below the anchor that
 * transaction wrote first; the tenant role still has no DELETE right at all.
 */
const auditRetention = `
CREATE TABLE audit_anchors (
  chain text PRIMARY KEY,
  seq bigint NOT NULL,
  hash text NOT NULL,
  pruned_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE audit_anchors ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_anchors FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_anchors_tenant ON audit_anchors
  USING (chain = current_setting('app.org_id', true));
GRANT SELECT ON audit_anchors TO ${APP_ROLE};
${serverPolicy('audit_anchors')}

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('app.audit_prune', true) = 'on'
     AND OLD.seq <= (SELECT seq FROM audit_anchors WHERE chain = OLD.chain) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END $f$;
`;

/**
 * Second factor, invitations and the last-owner wall.
 *
 * - user_mfa: a user's TOTP secret, encrypted by the server (mfa.ts) before it is stored;
 *   `enabled_at` is set once the first code confirmed it, `last_step` is the last 30-second
 *   step a code was accepted for (a code is refused at or below it: no replay).
 * - mfa_recovery_codes: SHA-256 of one-use recovery codes.
 * - sessions.mfa_verified_at: when this session passed the second factor. A session needs
 *   it when the user enrolled or FORCE_MFA is on, so turning either on catches sessions
 *   that never gave one.
 * - invitations: a tenant table; the link's token is kept as its SHA-256 only.
 * - memberships_keep_owner: a deferred check that an organisation still has an owner at
 *   commit. It first locks the organisation row, so two transactions demoting each other's
 *   owner are serialised and the second sees the first's change.
 */
const sessionsMfaInvitations = `
CREATE TABLE user_mfa (
  user_id text PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  secret_enc text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  enabled_at timestamptz,
  last_step bigint
);
CREATE TABLE mfa_recovery_codes (
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at timestamptz,
  PRIMARY KEY (user_id, code_hash)
);
ALTER TABLE sessions ADD COLUMN mfa_verified_at timestamptz;

CREATE TABLE invitations (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  email text NOT NULL,
  role text NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
  token_hash text NOT NULL UNIQUE,
  created_by text NOT NULL REFERENCES users(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  accepted_at timestamptz,
  accepted_by text REFERENCES users(id),
  revoked_at timestamptz
);
-- At most one pending invitation per address and organisation.
CREATE UNIQUE INDEX invitations_pending ON invitations (organisation_id, email)
  WHERE accepted_at IS NULL AND revoked_at IS NULL;
${tenantPolicy('invitations')}

CREATE FUNCTION memberships_keep_owner() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF OLD.role <> 'owner' THEN RETURN NULL; END IF;
  PERFORM 1 FROM organisations WHERE id = OLD.organisation_id FOR UPDATE;
  IF FOUND AND NOT EXISTS (
    SELECT 1 FROM memberships WHERE organisation_id = OLD.organisation_id AND role = 'owner'
  ) THEN
    RAISE EXCEPTION 'organisation % would be left without an owner', OLD.organisation_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END $f$;
CREATE CONSTRAINT TRIGGER memberships_keep_owner AFTER UPDATE OR DELETE ON memberships
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION memberships_keep_owner();
`;

/**
 * Idempotency-Key (docs/server.md): the answer a write gave, kept per organisation and key
 * for a while, so a client that never heard it (a lost response, a killed app, an offline
 * queue sending again) gets the same answer and the write takes effect once. The row is
 * written in the write's own transaction: it exists exactly when the effect does.
 */
const idempotency = `
CREATE TABLE idempotency_keys (
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organisation_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (organisation_id, created_at);
${tenantPolicy('idempotency_keys')}
`;

/**
 * Google sign-in for native clients (RFC 8252, src/server/routes/google.ts). A flow in
 * progress lives in oauth_states from the start route to Google's callback: the server's
 * own PKCE verifier and nonce for Google (never sent to the browser) and what the native
 * client asked for. The callback deletes its row (a state works once) and issues a
 * one-time code for the client's loopback address (oauth_codes), which the client
 * exchanges with its own PKCE verifier. Only hashes of the state and the code are kept.
 * Neither table belongs to a tenant: the tenant role has no right to them.
 */
const oauthFlows = `
CREATE TABLE oauth_states (
  state_hash text PRIMARY KEY,
  nonce text NOT NULL,
  code_verifier text NOT NULL,
  client_redirect_uri text NOT NULL,
  client_challenge text NOT NULL,
  client_state text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE TABLE oauth_codes (
  code_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id),
  client_redirect_uri text NOT NULL,
  client_challenge text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  -- The session the code started, ended again if the code is presented a second time.
  session_id text REFERENCES sessions(id)
);
`;

/**
 * The shared catalog (destinations, schedules, runs), indexes for keyset pagination on
 * (created_at, id), the audit write after commit, and the audit export cursor.
 *
 * Audit after commit: a request's transaction only INSERTs its entry (seq, prev_hash and
 * hash NULL), taking no lock on the chain head; audit_link() then links committed entries
 * in insertion order under an advisory lock (one linker at a time, across instances). The
 * append-only trigger lets an UPDATE through only when it fills in the chain columns of an
 * unlinked entry and leaves everything else as written. ADR 0013 has the reasoning.
 *
 * Audit export: audit_export_cursors holds, per chain, the last sequence number shipped
 * and the batch in flight (pending_to), so a batch re-sent after a crash is the same one.
 */
const catalog = `
CREATE TABLE destinations (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  name text NOT NULL,
  url text NOT NULL,
  kind text NOT NULL,
  options jsonb NOT NULL DEFAULT '{}',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (organisation_id, name)
);

CREATE TABLE schedules (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  name text NOT NULL,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  destination_id text NOT NULL REFERENCES destinations(id),
  cron text NOT NULL,
  time_zone text NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  -- The rest of the engine's schedule (kind, scope, retention, verification, ...).
  settings jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
  id text PRIMARY KEY,
  organisation_id text NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  project_id text NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  schedule_id text REFERENCES schedules(id) ON DELETE SET NULL,
  destination_id text REFERENCES destinations(id) ON DELETE SET NULL,
  status text NOT NULL CHECK (status IN ('started', 'finished', 'failed')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  document_count bigint,
  bytes bigint,
  error_message text,
  backup_id text,
  reported_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

${['destinations', 'schedules', 'runs'].map((t) => tenantPolicy(t)).join('\n')}

CREATE INDEX projects_page ON projects (organisation_id, created_at, id);
CREATE INDEX backups_page ON backups (organisation_id, created_at, id);
CREATE INDEX destinations_page ON destinations (organisation_id, created_at, id);
CREATE INDEX schedules_page ON schedules (organisation_id, created_at, id);
CREATE INDEX runs_page ON runs (organisation_id, created_at, id);
CREATE INDEX memberships_page ON memberships (organisation_id, created_at, user_id);
CREATE INDEX api_keys_page ON api_keys (organisation_id, created_at, id);

ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD COLUMN id bigserial;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN prev_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain, seq);
CREATE INDEX audit_log_chain_id ON audit_log (chain, id);
CREATE INDEX audit_log_unlinked ON audit_log (id) WHERE seq IS NULL;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO ${APP_ROLE};

CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('app.audit_prune', true) = 'on'
     AND OLD.seq <= (SELECT seq FROM audit_anchors WHERE chain = OLD.chain) THEN
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL
     AND NEW.hash IS NOT NULL AND NEW.prev_hash IS NOT NULL
     AND NEW.id = OLD.id AND NEW.chain = OLD.chain AND NEW.entry = OLD.entry THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only';
END $f$;

CREATE FUNCTION audit_link(p_limit integer) RETURNS integer
LANGUAGE plpgsql AS $f$
DECLARE
  r record;
  v_seq bigint;
  v_prev text;
  v_hash text;
  v_count integer := 0;
BEGIN
  -- One linker at a time, whichever instance runs it; released at commit.
  PERFORM pg_advisory_xact_lock(4242005);
  FOR r IN SELECT id, chain, entry FROM audit_log WHERE seq IS NULL ORDER BY id LIMIT p_limit LOOP
    INSERT INTO audit_heads (chain, seq, hash) VALUES (r.chain, 0, repeat('0', 64))
      ON CONFLICT (chain) DO NOTHING;
    SELECT seq, hash INTO v_seq, v_prev FROM audit_heads WHERE chain = r.chain FOR UPDATE;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(v_prev || E'\\n' || r.entry, 'UTF8')), 'hex');
    UPDATE audit_log SET seq = v_seq, prev_hash = v_prev, hash = v_hash WHERE id = r.id;
    UPDATE audit_heads SET seq = v_seq, hash = v_hash WHERE chain = r.chain;
    v_count := v_count + 1;
  END LOOP;
  RETURN v_count;
END $f$;

CREATE TABLE audit_export_cursors (
  chain text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT 0,
  pending_to bigint,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/** A run's error code (the engine's AppError code), beside its message. */
const runErrorCode = `
ALTER TABLE runs ADD COLUMN error_code text;
`;

/**
 * Browser sign-in and per-user idempotency.
 *
 * - user_idempotency_keys: Idempotency-Key on POST /organizations. Creating an organisation
 *   has no organisation to keep its key under yet, so these keys belong to the user who
 *   sent them (the same columns and rules as idempotency_keys). Not a tenant table: the
 *   tenant role has no right to it.
 * - The organisation's billing settings (routes/billing.ts): plan and billing contact, on
 *   the organisation's own row (its RLS policy already covers them).
 * - Google sign-in for a browser (routes/google-browser.ts): a flow in oauth_states is now
 *   'native' (as before) or 'browser', which keeps the same-origin path to return to and
 *   the SHA-256 of the cookie that binds the flow to the browser that started it instead
 *   of a native client's loopback address, challenge and state.
 */
const serverWeb = `
CREATE TABLE user_idempotency_keys (
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  key text NOT NULL,
  request_hash text NOT NULL,
  status integer,
  body text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX user_idempotency_keys_created ON user_idempotency_keys (user_id, created_at);

ALTER TABLE organisations ADD COLUMN plan text NOT NULL DEFAULT 'free'
  CHECK (plan IN ('free', 'team', 'enterprise'));
ALTER TABLE organisations ADD COLUMN billing_email text;
ALTER TABLE organisations ADD COLUMN billing_updated_at timestamptz;
ALTER TABLE organisations ADD COLUMN billing_updated_by text;

ALTER TABLE oauth_states ADD COLUMN flow text NOT NULL DEFAULT 'native'
  CHECK (flow IN ('native', 'browser'));
ALTER TABLE oauth_states ADD COLUMN return_to text;
ALTER TABLE oauth_states ADD COLUMN browser_binding_hash text;
ALTER TABLE oauth_states ALTER COLUMN client_redirect_uri DROP NOT NULL;
ALTER TABLE oauth_states ALTER COLUMN client_challenge DROP NOT NULL;
ALTER TABLE oauth_states ALTER COLUMN client_state DROP NOT NULL;
ALTER TABLE oauth_states ADD CONSTRAINT oauth_states_flow_fields CHECK (
  (flow = 'native' AND client_redirect_uri IS NOT NULL AND client_challenge IS NOT NULL
     AND client_state IS NOT NULL)
  OR (flow = 'browser' AND return_to IS NOT NULL AND browser_binding_hash IS NOT NULL));
`;

/**
 * Expired rows are deleted for everyone at once (src/server/expiry-sweep.ts): each table's
 * sweep condition gets an index on its time column, so a sweep with nothing to delete
 * reads an index range instead of the whole table.
 */
const expirySweep = `
CREATE INDEX oauth_states_expires ON oauth_states (expires_at);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
CREATE INDEX oauth_codes_session ON oauth_codes (session_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX invitations_expires ON invitations (expires_at);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (created_at);
CREATE INDEX user_idempotency_keys_expires ON user_idempotency_keys (created_at);
`;

/**
 * A backup record names the backup it describes (the engine's backup id) and
 * the sources it holds, so another member's app joins it to its run exactly and shows
 * what it contains without its archive (metadata only, as before).
 */
const backupRecordDetails = `
ALTER TABLE backups ADD COLUMN backup_id text;
ALTER TABLE backups ADD COLUMN sources text[];
`;

/**
 * A backup record names where its archive lives by itself (the destination's URL, and the
 * organisation's destination when it has it), so another member's app shows it even when
 * the run that made it never reached the server. The URL outlives a removed destination.
 */
const backupRecordDestination = `
ALTER TABLE backups ADD COLUMN destination_id text REFERENCES destinations(id) ON DELETE SET NULL;
ALTER TABLE backups ADD COLUMN destination_url text;
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'initial', sql: initial },
  { version: 2, name: 'audit_append', sql: auditAppend },
  { version: 3, name: 'audit_retention', sql: auditRetention },
  { version: 4, name: 'sessions_mfa_invitations', sql: sessionsMfaInvitations },
  { version: 5, name: 'catalog', sql: catalog },
  { version: 6, name: 'idempotency_keys', sql: idempotency },
  { version: 7, name: 'oauth_flows', sql: oauthFlows },
  { version: 8, name: 'run_error_code', sql: runErrorCode },
  { version: 9, name: 'server_web', sql: serverWeb },
  { version: 10, name: 'expiry_sweep', sql: expirySweep },
  { version: 11, name: 'backup_record_details', sql: backupRecordDetails },
  { version: 12, name: 'backup_record_destination', sql: backupRecordDestination },
];
