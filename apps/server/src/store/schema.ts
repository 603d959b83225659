import type { Generated } from 'kysely';

/**
 * The server's tables as the queries see them, on either engine (the
 * migrations in `migrations.ts` create them). Booleans are 0 or 1, times are
 * ISO strings and lists are JSON text on both, so a row reads the same from
 * SQLite and PostgreSQL.
 */
export interface Tables {
  tenants: {
    id: string;
    remote_access_enabled: Generated<number>;
    remote_access_ack_email: string | null;
    remote_access_changed_by: string | null;
    remote_access_changed_at: string | null;
    pointer_control: Generated<number>;
    policy_version: Generated<number>;
  };
  locations: { tenant_id: string; id: string; name: string; kind: string; parent_id: string | null };
  rooms: {
    tenant_id: string;
    id: string;
    name: string;
    location_id: string | null;
    location_path: Generated<string>;
    tags: Generated<string>;
    platform: string;
    license: string;
    agent_public_key: string | null;
    enrolled_at: string | null;
    last_seen_at: string | null;
    signals: string | null;
    in_call: Generated<number>;
    displays: Generated<string>;
    updated_at: string;
    health: Generated<string>;
    online: Generated<number>;
  };
  roles: { tenant_id: string; id: string; name: string; description: Generated<string>; permissions: string; updated_at: string };
  assignments: { tenant_id: string; id: string; role_id: string; users: string; groups_: string; rooms: string; locations: string; tags: string };
  enrollment_codes: { code_hash: string; tenant_id: string; room_id: string; expires_at: string; used_at: string | null };
  sessions: {
    id: string;
    tenant_id: string;
    room_id: string;
    room_name: string;
    user_id: string;
    user_name: string;
    level: string;
    console_device: string;
    state: string;
    started_at: string;
    active_at: string | null;
    ended_at: string | null;
    end_reason: string | null;
    input_accepted: Generated<number>;
    input_dropped: Generated<number>;
    input_known: Generated<number>;
    live_room: string | null;
    node: string | null;
    principal: string | null;
    grant_id: string | null;
    pointer: Generated<number>;
  };
  audit: {
    tenant_id: string;
    seq: number;
    at: string;
    type: string;
    actor_id: string | null;
    actor_name: string | null;
    room_id: string | null;
    room_name: string | null;
    session_id: string | null;
    data: string;
    prev_hash: string;
    hash: string;
  };
  audit_guard: { purging: number };
  audit_pending: {
    id: Generated<number>;
    tenant_id: string;
    at: string;
    type: string;
    actor_id: string | null;
    actor_name: string | null;
    room_id: string | null;
    room_name: string | null;
    session_id: string | null;
    data: string;
  };
  audit_checkpoints: { tenant_id: string; seq: number; hash: string; at: string; signature: string };
  principals: { tenant_id: string; kind: string; id: string; name: string; username: Generated<string>; seen_at: string };
  log_bundles: {
    tenant_id: string;
    id: string;
    room_id: string;
    requested_by: string;
    requested_at: string;
    token_hash: string;
    received_at: string | null;
    size: number | null;
    sha256: string | null;
    content: Buffer | null;
  };
  /** `rowid` is SQLite's own row number; PostgreSQL gets a serial column of that name (migration 11), so "latest" reads alike on both. */
  room_events: { tenant_id: string; room_id: string; at: string; subject: string; state: string; rowid: Generated<number> };
  incidents: {
    tenant_id: string;
    id: string;
    room_id: string;
    room_name: string;
    cause: string;
    severity: string;
    state: string;
    opened_at: string;
    updated_at: string;
    resolved_at: string | null;
    auto_resolved: Generated<number>;
    reopened: Generated<number>;
    assignee_id: string | null;
    assignee_name: string | null;
  };
  incident_entries: { incident_id: string; at: string; kind: string; by_name: string | null; text: string | null; rowid: Generated<number> };
  incident_rules: { tenant_id: string; rules: string };
  alert_rules: { tenant_id: string; id: string; rule: string };
  webhooks: { tenant_id: string; id: string; name: string; url: string; format: string; secret: string; consecutive_failures: Generated<number>; disabled_reason: string | null };
  outbox: {
    tenant_id: string;
    id: string;
    idempotency_key: string;
    rule_id: string;
    incident_id: string;
    channel: string;
    target: string;
    event: string;
    payload: string;
    state: string;
    attempts: Generated<number>;
    next_attempt_at: string | null;
    last_status: string | null;
    created_at: string;
    delivered_at: string | null;
  };
  delivery_attempts: { outbox_id: string; at: string; status: string; rowid: Generated<number> };
}
