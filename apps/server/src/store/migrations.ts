import type { Engine } from './engine';

/**
 * A step of a migration: SQL both engines run, or a pair where they differ.
 * The SQL is written in the SQLite dialect the first ten shipped in;
 * `migrationSql` puts it into PostgreSQL's (no STRICT, BYTEA for BLOB,
 * BIGINT for INTEGER, which the PostgreSQL store reads as numbers).
 */
export type MigrationStep = string | { sqlite: string; postgres: string };

/**
 * One entry per schema version: migration N brings a database from version
 * N-1 to N. Append only; never edit a migration that has shipped. A
 * PostgreSQL store starts at version 11, in one transaction from empty: the
 * steps before it that only carry SQLite data forward do nothing there.
 */
export const migrations: readonly (readonly MigrationStep[])[] = [
  [`
  CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    remote_access_enabled INTEGER NOT NULL DEFAULT 0 CHECK (remote_access_enabled IN (0, 1)),
    remote_access_ack_email TEXT,
    remote_access_changed_by TEXT,
    remote_access_changed_at TEXT
  ) STRICT;

  CREATE TABLE locations (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('region', 'building', 'floor')),
    parent_id TEXT,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;

  CREATE TABLE rooms (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    location_id TEXT,
    location_path TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    platform TEXT NOT NULL,
    license TEXT NOT NULL CHECK (license IN ('pro', 'basic')),
    agent_public_key TEXT,
    enrolled_at TEXT,
    last_seen_at TEXT,
    signals TEXT,
    in_call INTEGER NOT NULL DEFAULT 0,
    displays TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;
  CREATE UNIQUE INDEX rooms_by_id ON rooms(id);

  CREATE TABLE roles (
    tenant_id TEXT NOT NULL REFERENCES tenants(id),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;

  CREATE TABLE assignments (
    tenant_id TEXT NOT NULL,
    id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    users TEXT NOT NULL,
    groups_ TEXT NOT NULL,
    rooms TEXT NOT NULL,
    locations TEXT NOT NULL,
    tags TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
  ) STRICT;
  CREATE INDEX assignments_by_role ON assignments(tenant_id, role_id);

  CREATE TABLE enrollment_codes (
    code_hash TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT
  ) STRICT;

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    room_name TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    level TEXT NOT NULL CHECK (level IN ('view', 'modify')),
    console_device TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at TEXT NOT NULL,
    active_at TEXT,
    ended_at TEXT,
    end_reason TEXT,
    input_accepted INTEGER NOT NULL DEFAULT 0,
    input_dropped INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX sessions_by_tenant ON sessions(tenant_id, started_at);

  CREATE TABLE audit (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    room_id TEXT,
    room_name TEXT,
    session_id TEXT,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  ) STRICT;
  CREATE INDEX audit_by_time ON audit(tenant_id, at);
  -- Append-only: the service never edits or deletes a record except through the
  -- retention purge, which lifts this guard inside its own transaction.
  CREATE TABLE audit_guard (purging INTEGER NOT NULL) STRICT;
  INSERT INTO audit_guard VALUES (0);
  `,
    {
      sqlite: `
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN (SELECT purging FROM audit_guard) = 0
    BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
  `,
      postgres: `
  CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'UPDATE' OR (SELECT purging FROM audit_guard) = 0 THEN RAISE EXCEPTION 'audit records are append-only'; END IF;
    RETURN OLD;
  END $$;
  CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit FOR EACH ROW EXECUTE FUNCTION audit_append_only();
  `,
    },
  ],
  [`
  -- Signed chain heads; the same lines go to the checkpoint file outside the database.
  CREATE TABLE audit_checkpoints (
    tenant_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, seq)
  ) STRICT;
  `],
  [`
  -- 0 when the room never reported its input counts: the record says unknown, never a made-up zero.
  ALTER TABLE sessions ADD COLUMN input_known INTEGER NOT NULL DEFAULT 1 CHECK (input_known IN (0, 1));
  `],
  [`
  -- Who has signed in, and the groups their tokens carried: what the role wizard offers to pick from.
  CREATE TABLE principals (
    tenant_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'group')),
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    username TEXT NOT NULL DEFAULT '',
    seen_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, id)
  ) STRICT;
  `],
  [`
  -- Log bundles rooms were asked for; the upload token is kept only as its hash.
  CREATE TABLE log_bundles (
    tenant_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    requested_at TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    received_at TEXT,
    size INTEGER,
    sha256 TEXT,
    content BLOB
  ) STRICT;
  CREATE INDEX log_bundles_by_room ON log_bundles(tenant_id, room_id, requested_at);
  `],
  [`
  -- Pointer control (mouse and touch in modify sessions): off for every tenant until an administrator turns it on.
  ALTER TABLE tenants ADD COLUMN pointer_control INTEGER NOT NULL DEFAULT 0 CHECK (pointer_control IN (0, 1));
  `],
  [`
  -- Every change of a room's state, kept 180 days: its presence, call, each health signal, and its overall health.
  CREATE TABLE room_events (
    tenant_id TEXT NOT NULL,
    room_id TEXT NOT NULL,
    at TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL
  ) STRICT;
  CREATE INDEX room_events_by_room ON room_events(tenant_id, room_id, at);
  CREATE INDEX room_events_by_time ON room_events(at);
  `],
  [`
  -- Incidents: opened by the tenant's rules from room events, at most one open per room and cause.
  CREATE TABLE incidents (
    tenant_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    room_id TEXT NOT NULL,
    room_name TEXT NOT NULL,
    cause TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('critical', 'warning')),
    state TEXT NOT NULL CHECK (state IN ('detected', 'active', 'investigating', 'resolved')),
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    resolved_at TEXT,
    auto_resolved INTEGER NOT NULL DEFAULT 0 CHECK (auto_resolved IN (0, 1)),
    reopened INTEGER NOT NULL DEFAULT 0,
    assignee_id TEXT,
    assignee_name TEXT
  ) STRICT;
  CREATE UNIQUE INDEX incidents_one_open ON incidents(room_id, cause) WHERE state != 'resolved';
  CREATE INDEX incidents_by_tenant ON incidents(tenant_id, opened_at);
  CREATE TABLE incident_entries (
    incident_id TEXT NOT NULL,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    by_name TEXT,
    text TEXT
  ) STRICT;
  CREATE INDEX incident_entries_by_incident ON incident_entries(incident_id, at);
  CREATE TABLE incident_rules (tenant_id TEXT PRIMARY KEY, rules TEXT NOT NULL) STRICT;
  `],
  [`
  -- Alerts: rules and webhooks per tenant, and the outbox every delivery goes through (idempotency key unique).
  CREATE TABLE alert_rules (tenant_id TEXT NOT NULL, id TEXT PRIMARY KEY, rule TEXT NOT NULL) STRICT;
  CREATE TABLE webhooks (
    tenant_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    format TEXT NOT NULL,
    secret TEXT NOT NULL,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT
  ) STRICT;
  CREATE TABLE outbox (
    tenant_id TEXT NOT NULL,
    id TEXT PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    rule_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    target TEXT NOT NULL,
    event TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_status TEXT,
    created_at TEXT NOT NULL,
    delivered_at TEXT
  ) STRICT;
  CREATE INDEX outbox_due ON outbox(state, next_attempt_at);
  CREATE INDEX outbox_by_tenant ON outbox(tenant_id, created_at);
  CREATE TABLE delivery_attempts (outbox_id TEXT NOT NULL, at TEXT NOT NULL, status TEXT NOT NULL) STRICT;
  CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts(outbox_id, at);
  `],
  [`
  -- Each room's overall health as the monitor last wrote it, so the dashboard counts rooms by health in the database.
  ALTER TABLE rooms ADD COLUMN health TEXT NOT NULL DEFAULT 'offline' CHECK (health IN ('healthy', 'nonUrgent', 'critical', 'offline'));
  CREATE INDEX rooms_by_health ON rooms(tenant_id, health);
  `],
  [`
  -- One live session per room, said by the database and not by one process's memory: a session holds its room in
  -- live_room until it ends. Rooms a crash left with two open sessions keep the newest here; the older ones end as
  -- orphans do (the broker closes them, audited).
  ALTER TABLE sessions ADD COLUMN live_room TEXT;
  `,
    { sqlite: `UPDATE sessions SET live_room = room_id WHERE state != 'ended' AND rowid IN (SELECT max(rowid) FROM sessions WHERE state != 'ended' GROUP BY room_id);`, postgres: '' },
    `
  CREATE UNIQUE INDEX sessions_one_live_per_room ON sessions(live_room);
  `,
  ],
  [
    {
      // Queries take a table's newest row by rowid, which SQLite keeps on every table; PostgreSQL gets a column of that name.
      sqlite: '',
      postgres: `
  ALTER TABLE room_events ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
  ALTER TABLE delivery_attempts ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
  ALTER TABLE incident_entries ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
  `,
    },
  ],
  [
    `
  -- Bumped with every change to who may do what in the tenant: each node keeps the tenant's policy while this stays.
  ALTER TABLE tenants ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0;
  `,
  ],
  [
    `
  -- The node that runs a session (NULL: none, it gave it up), and what another node needs to run it after that one is
  -- gone: who started it (rule 14 decides again for them), its grant and whether it may drive the pointer.
  ALTER TABLE sessions ADD COLUMN node TEXT;
  ALTER TABLE sessions ADD COLUMN principal TEXT;
  ALTER TABLE sessions ADD COLUMN grant_id TEXT;
  ALTER TABLE sessions ADD COLUMN pointer INTEGER NOT NULL DEFAULT 0 CHECK (pointer IN (0, 1));
  `,
  ],
  [
    `
  -- Audit records committed with their change and not yet in the chain: the chain's lock is taken only to move them
  -- into it, in batches, so writers on several nodes do not queue on it for each commit.
  `,
    {
      sqlite: `CREATE TABLE audit_pending (id INTEGER PRIMARY KEY,`,
      postgres: `CREATE TABLE audit_pending (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,`,
    },
    `
    tenant_id TEXT NOT NULL,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    actor_id TEXT,
    actor_name TEXT,
    room_id TEXT,
    room_name TEXT,
    session_id TEXT,
    data TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_pending_by_tenant ON audit_pending(tenant_id, id);
  `,
  ],
  [
    `
  -- Whether the room's agent is connected to a node, as the monitor last wrote it: what every node shows in a cluster.
  ALTER TABLE rooms ADD COLUMN online INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1));
  `,
  ],
  [
    {
      // SQLite finds a row by rowid through the table's own key; PostgreSQL's rowid columns had no index, so a room's
      // latest states (`rowid IN (SELECT max(rowid) …)`) read the whole event table: 30 ms a room at 90,000 events.
      sqlite: '',
      postgres: `
  CREATE UNIQUE INDEX room_events_by_rowid ON room_events(rowid);
  CREATE UNIQUE INDEX delivery_attempts_by_rowid ON delivery_attempts(rowid);
  CREATE UNIQUE INDEX incident_entries_by_rowid ON incident_entries(rowid);
  `,
    },
  ],
];

/** A migration's SQL for one engine. */
export function migrationSql(steps: readonly MigrationStep[], engine: Engine): string {
  const sql = steps.map((step) => (typeof step === 'string' ? step : step[engine])).join('\n');
  return engine === 'sqlite' ? sql : sql.replace(/\)\s*STRICT;/g, ');').replace(/\bBLOB\b/g, 'BYTEA').replace(/\bINTEGER\b/g, 'BIGINT');
}
