import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { builtInRoleIds, builtInRoles, type Policy, type Role } from '@roomlink/rbac';
import type {
  Assignment,
  DisplayInfo,
  HealthSignals,
  License,
  Location,
  LocationKind,
  Permission,
  Platform,
  RemoteAccessSettings,
  RoleView,
  RoomHealth,
} from '@roomlink/shared';
import type { Db } from './db';

export class DirectoryError extends Error {
  constructor(
    readonly code: 'room_not_found' | 'not_permitted' | 'conflict' | 'bad_request' | 'enrollment_code_invalid',
    message: string,
  ) {
    super(message);
  }
}

export interface RoomRecord {
  tenantId: string;
  id: string;
  name: string;
  locationId: string | null;
  locationPath: string[];
  tags: string[];
  platform: Platform;
  license: License;
  agentPublicKey: string | null;
  enrolledAt: string | null;
  lastSeenAt: string | null;
  signals: HealthSignals | null;
  inCall: boolean;
  displays: DisplayInfo[];
  /** As the room monitor last wrote it. */
  health: RoomHealth;
  updatedAt: string;
}

interface RoomRow {
  tenant_id: string;
  id: string;
  name: string;
  location_id: string | null;
  location_path: string;
  tags: string;
  platform: string;
  license: string;
  agent_public_key: string | null;
  enrolled_at: string | null;
  last_seen_at: string | null;
  signals: string | null;
  in_call: number;
  displays: string;
  health: RoomHealth;
  updated_at: string;
}

const toRoom = (r: RoomRow): RoomRecord => ({
  tenantId: r.tenant_id,
  id: r.id,
  name: r.name,
  locationId: r.location_id,
  locationPath: JSON.parse(r.location_path) as string[],
  tags: JSON.parse(r.tags) as string[],
  platform: r.platform as Platform,
  license: r.license as License,
  agentPublicKey: r.agent_public_key,
  enrolledAt: r.enrolled_at,
  lastSeenAt: r.last_seen_at,
  signals: r.signals ? (JSON.parse(r.signals) as HealthSignals) : null,
  inCall: r.in_call === 1,
  displays: JSON.parse(r.displays) as DisplayInfo[],
  health: r.health,
  updatedAt: r.updated_at,
});

export interface NewRoom {
  name: string;
  locationId: string | null;
  tags: string[];
  platform: Platform;
  license: License;
}

export interface NewRole {
  name: string;
  description: string;
  permissions: Permission[];
  assignments: Omit<Assignment, 'id' | 'roleId'>[];
}

export const ENROLLMENT_CODE_TTL_MS = 24 * 3600 * 1000;
const hashCode = (code: string) => createHash('sha256').update(code.trim().toUpperCase()).digest('hex');
const newId = (prefix: string) => `${prefix}-${randomUUID()}`;

/**
 * Tenants, locations, rooms, roles and assignments. Every read and write
 * names its tenant: nothing here can reach across tenants (rule 13).
 */
export class Directory {
  private readonly policies = new Map<string, Policy>();
  private readonly principalsWritten = new Map<string, string>();
  /** The statements every agent report runs, prepared once: at 10,000 rooms they are most of the ingest. */
  private readonly byId;
  private readonly agentState;

  constructor(
    private readonly db: Db,
    private readonly now: () => Date,
  ) {
    this.byId = db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE id = ?');
    this.agentState = db.prepare<{ id: string; signals: string | null; inCall: number; displays: string; lastSeenAt: string | null; health: RoomHealth; now: string }>(
      'UPDATE rooms SET signals = @signals, in_call = @inCall, displays = @displays, last_seen_at = @lastSeenAt, health = @health, updated_at = @now WHERE id = @id',
    );
  }

  private iso(): string {
    return this.now().toISOString();
  }

  tenantExists(tenantId: string): boolean {
    return this.db.prepare('SELECT 1 FROM tenants WHERE id = ?').get(tenantId) !== undefined;
  }

  ensureTenant(tenantId: string): void {
    this.db.prepare('INSERT OR IGNORE INTO tenants (id) VALUES (?)').run(tenantId);
  }

  remoteAccess(tenantId: string): RemoteAccessSettings {
    const row = this.db
      .prepare<[string], { remote_access_enabled: number; remote_access_ack_email: string | null; remote_access_changed_by: string | null; remote_access_changed_at: string | null; pointer_control: number }>(
        'SELECT * FROM tenants WHERE id = ?',
      )
      .get(tenantId);
    return {
      enabled: row?.remote_access_enabled === 1,
      acknowledgedBy: row?.remote_access_ack_email ?? null,
      changedBy: row?.remote_access_changed_by ?? null,
      changedAt: row?.remote_access_changed_at ?? null,
      pointerControl: row?.pointer_control === 1,
    };
  }

  setPointerControl(tenantId: string, enabled: boolean): RemoteAccessSettings {
    this.ensureTenant(tenantId);
    this.db.prepare('UPDATE tenants SET pointer_control = ? WHERE id = ?').run(enabled ? 1 : 0, tenantId);
    return this.remoteAccess(tenantId);
  }

  setRemoteAccess(tenantId: string, enabled: boolean, ackEmail: string | null, changedBy: string): RemoteAccessSettings {
    this.ensureTenant(tenantId);
    this.db
      .prepare('UPDATE tenants SET remote_access_enabled = ?, remote_access_ack_email = ?, remote_access_changed_by = ?, remote_access_changed_at = ? WHERE id = ?')
      .run(enabled ? 1 : 0, ackEmail, changedBy, this.iso(), tenantId);
    this.policies.delete(tenantId);
    return this.remoteAccess(tenantId);
  }

  // Locations

  locations(tenantId: string): Location[] {
    return this.db
      .prepare<[string], { id: string; name: string; kind: LocationKind; parent_id: string | null }>('SELECT id, name, kind, parent_id FROM locations WHERE tenant_id = ? ORDER BY name')
      .all(tenantId)
      .map((r) => ({ id: r.id as Location['id'], name: r.name, kind: r.kind, parentId: r.parent_id as Location['parentId'] }));
  }

  createLocation(tenantId: string, input: { name: string; kind: LocationKind; parentId: string | null }): Location {
    this.checkParent(tenantId, input.kind, input.parentId);
    this.ensureTenant(tenantId);
    const id = newId('loc');
    this.db.prepare('INSERT INTO locations (tenant_id, id, name, kind, parent_id) VALUES (?, ?, ?, ?, ?)').run(tenantId, id, input.name, input.kind, input.parentId);
    return { id: id as Location['id'], name: input.name, kind: input.kind, parentId: input.parentId as Location['parentId'] };
  }

  location(tenantId: string, id: string): Location | undefined {
    return this.locations(tenantId).find((l) => l.id === id);
  }

  /**
   * Renames a location or moves it under another parent of the right kind;
   * the rooms beneath it take the new path in the same write.
   */
  updateLocation(tenantId: string, id: string, patch: { name?: string; parentId?: string }): Location {
    const current = this.location(tenantId, id);
    if (!current) throw new DirectoryError('bad_request', 'The location does not exist.');
    const parentId = patch.parentId ?? current.parentId;
    if (patch.parentId !== undefined) this.checkParent(tenantId, current.kind, patch.parentId);
    this.db.prepare('UPDATE locations SET name = ?, parent_id = ? WHERE tenant_id = ? AND id = ?').run(patch.name ?? current.name, parentId, tenantId, id);
    const setPath = this.db.prepare('UPDATE rooms SET location_path = ?, updated_at = ? WHERE tenant_id = ? AND id = ?');
    for (const room of this.roomsUnder(tenantId, id)) setPath.run(JSON.stringify(this.locationPath(tenantId, room.locationId)), this.iso(), tenantId, room.id);
    return this.location(tenantId, id)!;
  }

  /** Deletes a location that holds nothing: no locations, no rooms, and no role assignment names it. */
  deleteLocation(tenantId: string, id: string): Location {
    const current = this.location(tenantId, id);
    if (!current) throw new DirectoryError('bad_request', 'The location does not exist.');
    const children = this.db.prepare<[string, string], { n: number }>('SELECT count(*) AS n FROM locations WHERE tenant_id = ? AND parent_id = ?').get(tenantId, id)!.n;
    if (children > 0) throw new DirectoryError('conflict', `${current.name} still holds ${children} location(s). Move or delete them first.`);
    const rooms = this.roomsUnder(tenantId, id).length;
    if (rooms > 0) throw new DirectoryError('conflict', `${current.name} still holds ${rooms} room(s). Move or retire them first.`);
    const roles = this.db
      .prepare<[string, string], { name: string }>('SELECT DISTINCT r.name FROM assignments a JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id WHERE a.tenant_id = ? AND EXISTS (SELECT 1 FROM json_each(a.locations) WHERE value = ?)')
      .all(tenantId, id)
      .map((r) => r.name);
    if (roles.length > 0) throw new DirectoryError('conflict', `${current.name} is named by the role(s) ${roles.join(', ')}. Change their assignments first.`);
    this.db.prepare('DELETE FROM locations WHERE tenant_id = ? AND id = ?').run(tenantId, id);
    return current;
  }

  /** Rooms at the location or anywhere beneath it. */
  roomsUnder(tenantId: string, locationId: string): RoomRecord[] {
    return this.db.prepare<[string, string], RoomRow>('SELECT * FROM rooms WHERE tenant_id = ? AND EXISTS (SELECT 1 FROM json_each(location_path) WHERE value = ?)').all(tenantId, locationId).map(toRoom);
  }

  private checkParent(tenantId: string, kind: LocationKind, parentId: string | null): void {
    // Regions hold buildings, buildings hold floors: nothing else nests, nothing below a region floats.
    const parentKind: Record<LocationKind, LocationKind | null> = { region: null, building: 'region', floor: 'building' };
    const wanted = parentKind[kind];
    if (wanted === null && parentId) throw new DirectoryError('bad_request', 'A region sits inside no other location.');
    if (wanted !== null) {
      const parent = parentId ? this.locationRow(tenantId, parentId) : undefined;
      if (!parentId) throw new DirectoryError('bad_request', `A ${kind} needs a ${wanted} to sit inside.`);
      if (!parent) throw new DirectoryError('bad_request', 'The parent location does not exist.');
      if (parent.kind !== wanted) throw new DirectoryError('bad_request', `A ${kind} sits inside a ${wanted}, not a ${parent.kind}.`);
    }
  }

  private locationRow(tenantId: string, id: string) {
    return this.db.prepare<[string, string], { id: string; kind: LocationKind; parent_id: string | null }>('SELECT id, kind, parent_id FROM locations WHERE tenant_id = ? AND id = ?').get(tenantId, id);
  }

  /** Location ids from the outermost (region) to `locationId` itself. */
  locationPath(tenantId: string, locationId: string | null): string[] {
    const path: string[] = [];
    for (let id = locationId; id !== null && path.length < 8; ) {
      const row = this.locationRow(tenantId, id);
      if (!row) throw new DirectoryError('bad_request', 'The location does not exist.');
      path.unshift(row.id);
      id = row.parent_id;
    }
    return path;
  }

  // Rooms

  rooms(tenantId: string): RoomRecord[] {
    return this.db.prepare<[string], RoomRow>('SELECT * FROM rooms WHERE tenant_id = ? ORDER BY name').all(tenantId).map(toRoom);
  }

  /** How many of the tenant's rooms are in each health, and how many of them are in a call: the dashboard's count for tenant-wide readers. */
  roomCounts(tenantId: string): { health: RoomHealth; rooms: number; inCall: number }[] {
    return this.db.prepare<[string], { health: RoomHealth; rooms: number; inCall: number }>('SELECT health, count(*) AS rooms, sum(in_call) AS inCall FROM rooms WHERE tenant_id = ? GROUP BY health').all(tenantId);
  }

  /** Each room's scope, health and call, without the rest of the row: the dashboard's count for readers with a scope. */
  roomScopes(tenantId: string): { id: string; tenantId: string; location: string[]; tags: string[]; health: RoomHealth; inCall: boolean }[] {
    return this.db
      .prepare<[string], { id: string; location_path: string; tags: string; health: RoomHealth; in_call: number }>('SELECT id, location_path, tags, health, in_call FROM rooms WHERE tenant_id = ?')
      .all(tenantId)
      .map((r) => ({ id: r.id, tenantId, location: JSON.parse(r.location_path) as string[], tags: JSON.parse(r.tags) as string[], health: r.health, inCall: r.in_call === 1 }));
  }

  room(tenantId: string, roomId: string): RoomRecord | undefined {
    const row = this.db.prepare<[string, string], RoomRow>('SELECT * FROM rooms WHERE tenant_id = ? AND id = ?').get(tenantId, roomId);
    return row && toRoom(row);
  }

  /** For the agent hub, which knows a room id before it knows the tenant. */
  roomById(roomId: string): RoomRecord | undefined {
    const row = this.byId.get(roomId);
    return row && toRoom(row);
  }

  createRoom(tenantId: string, input: NewRoom): RoomRecord {
    this.ensureTenant(tenantId);
    const id = newId('room');
    this.db
      .prepare('INSERT INTO rooms (tenant_id, id, name, location_id, location_path, tags, platform, license, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(tenantId, id, input.name, input.locationId, JSON.stringify(this.locationPath(tenantId, input.locationId)), JSON.stringify([...new Set(input.tags)]), input.platform, input.license, this.iso());
    return this.room(tenantId, id)!;
  }

  updateRoom(tenantId: string, roomId: string, patch: Partial<NewRoom>): RoomRecord {
    const current = this.room(tenantId, roomId);
    if (!current) throw new DirectoryError('room_not_found', 'No such room.');
    const next = { ...current, ...patch };
    this.db
      .prepare('UPDATE rooms SET name = ?, location_id = ?, location_path = ?, tags = ?, platform = ?, license = ?, updated_at = ? WHERE tenant_id = ? AND id = ?')
      .run(next.name, next.locationId, JSON.stringify(this.locationPath(tenantId, next.locationId)), JSON.stringify([...new Set(next.tags)]), next.platform, next.license, this.iso(), tenantId, roomId);
    return this.room(tenantId, roomId)!;
  }

  /**
   * Takes a room out of the directory: its row, its unused codes, and its id
   * in any assignment (a scope that named only this room names nothing now).
   * Its audit records and session history stay. Returns the role names whose
   * assignments changed.
   */
  retireRoom(tenantId: string, roomId: string): string[] {
    if (!this.room(tenantId, roomId)) throw new DirectoryError('room_not_found', 'No such room.');
    const named = this.db
      .prepare<[string, string], { id: string; rooms: string; name: string }>(
        'SELECT a.id, a.rooms, r.name FROM assignments a JOIN roles r ON r.tenant_id = a.tenant_id AND r.id = a.role_id WHERE a.tenant_id = ? AND EXISTS (SELECT 1 FROM json_each(a.rooms) WHERE value = ?)',
      )
      .all(tenantId, roomId);
    const setRooms = this.db.prepare('UPDATE assignments SET rooms = ? WHERE tenant_id = ? AND id = ?');
    for (const a of named) setRooms.run(JSON.stringify((JSON.parse(a.rooms) as string[]).filter((id) => id !== roomId)), tenantId, a.id);
    this.db.prepare('DELETE FROM enrollment_codes WHERE tenant_id = ? AND room_id = ?').run(tenantId, roomId);
    this.db.prepare('DELETE FROM rooms WHERE tenant_id = ? AND id = ?').run(tenantId, roomId);
    this.policies.delete(tenantId);
    return [...new Set(named.map((a) => a.name))];
  }

  /** Forgets the room's device: its key no longer proves the room, and its unused codes are void. */
  revokeDevice(tenantId: string, roomId: string): RoomRecord {
    if (!this.room(tenantId, roomId)) throw new DirectoryError('room_not_found', 'No such room.');
    this.db.prepare('DELETE FROM enrollment_codes WHERE tenant_id = ? AND room_id = ? AND used_at IS NULL').run(tenantId, roomId);
    this.db.prepare('UPDATE rooms SET agent_public_key = NULL, enrolled_at = NULL, updated_at = ? WHERE tenant_id = ? AND id = ?').run(this.iso(), tenantId, roomId);
    return this.room(tenantId, roomId)!;
  }

  /**
   * Remembers who signed in and the groups their token carried, for the role
   * wizard's pickers. Every request calls this: it writes only when something
   * changed or an hour has passed.
   */
  recordPrincipals(tenantId: string, user: { id: string; name: string; username: string }, groups: readonly string[]): void {
    const key = `${tenantId}\n${user.id}`;
    const signature = JSON.stringify([user.name, user.username, groups, Math.floor(this.now().getTime() / 3_600_000)]);
    if (this.principalsWritten.get(key) === signature) return;
    if (this.principalsWritten.size > 100_000) this.principalsWritten.clear();
    this.principalsWritten.set(key, signature);
    const upsert = this.db.prepare(
      'INSERT INTO principals (tenant_id, kind, id, name, username, seen_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, kind, id) DO UPDATE SET name = excluded.name, username = excluded.username, seen_at = excluded.seen_at',
    );
    const at = this.iso();
    this.db.transaction(() => {
      upsert.run(tenantId, 'user', user.id, user.name, user.username, at);
      for (const group of groups) upsert.run(tenantId, 'group', group, group, '', at);
    })();
  }

  principals(tenantId: string): { users: { id: string; name: string; username: string }[]; groups: { id: string }[] } {
    const rows = this.db.prepare<[string], { kind: 'user' | 'group'; id: string; name: string; username: string }>('SELECT kind, id, name, username FROM principals WHERE tenant_id = ? ORDER BY name').all(tenantId);
    return { users: rows.filter((r) => r.kind === 'user').map(({ id, name, username }) => ({ id, name, username })), groups: rows.filter((r) => r.kind === 'group').map(({ id }) => ({ id })) };
  }

  /** What the room's agent last said, and the health the room monitor makes of it (see `roomHealth`). */
  recordAgentState(roomId: string, live: Pick<RoomRecord, 'signals' | 'inCall' | 'displays' | 'lastSeenAt' | 'health'>): void {
    this.agentState.run({
      id: roomId,
      signals: live.signals && JSON.stringify(live.signals),
      inCall: live.inCall ? 1 : 0,
      displays: JSON.stringify(live.displays),
      lastSeenAt: live.lastSeenAt,
      health: live.health,
      now: this.iso(),
    });
  }

  recordLastSeen(roomId: string): void {
    this.db.prepare('UPDATE rooms SET last_seen_at = ? WHERE id = ?').run(this.iso(), roomId);
  }

  // Enrollment

  issueEnrollmentCode(tenantId: string, roomId: string): { code: string; expiresAt: string } {
    if (!this.room(tenantId, roomId)) throw new DirectoryError('room_not_found', 'No such room.');
    // 20 characters of Crockford base32: 100 bits, typed by hand at worst.
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const code = [...randomBytes(20)].map((b) => alphabet[b & 31]).join('');
    const expiresAt = new Date(this.now().getTime() + ENROLLMENT_CODE_TTL_MS).toISOString();
    this.db.prepare('INSERT INTO enrollment_codes (code_hash, tenant_id, room_id, expires_at) VALUES (?, ?, ?, ?)').run(hashCode(code), tenantId, roomId, expiresAt);
    return { code, expiresAt };
  }

  /** Spends a one-time code: binds the agent's public key to the room. Unknown, expired and used codes look the same. */
  enroll(code: string, publicKey: string, platform: Platform): RoomRecord {
    const row = this.db
      .prepare<[string], { tenant_id: string; room_id: string; expires_at: string; used_at: string | null }>('SELECT * FROM enrollment_codes WHERE code_hash = ?')
      .get(hashCode(code));
    if (!row || row.used_at !== null || row.expires_at <= this.iso()) throw new DirectoryError('enrollment_code_invalid', 'The code is not valid.');
    const used = this.db.prepare('UPDATE enrollment_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL').run(this.iso(), hashCode(code));
    if (used.changes !== 1) throw new DirectoryError('enrollment_code_invalid', 'The code is not valid.');
    this.db
      .prepare('UPDATE rooms SET agent_public_key = ?, enrolled_at = ?, platform = ?, updated_at = ? WHERE tenant_id = ? AND id = ?')
      .run(publicKey, this.iso(), platform, this.iso(), row.tenant_id, row.room_id);
    return this.room(row.tenant_id, row.room_id)!;
  }

  // Roles and assignments

  roles(tenantId: string): RoleView[] {
    const assignments = this.assignments(tenantId);
    const custom = this.db
      .prepare<[string], { id: string; name: string; description: string; permissions: string; updated_at: string }>('SELECT * FROM roles WHERE tenant_id = ? ORDER BY name')
      .all(tenantId);
    const view = (role: { id: string; name: string; description: string; builtIn: boolean; permissions: Permission[]; updatedAt: string | null }): RoleView => ({
      ...role,
      id: role.id as RoleView['id'],
      assignments: assignments.filter((a) => a.roleId === role.id),
    });
    return [
      ...builtInRoles.map((r) => view({ id: r.id, name: r.name, description: 'Built-in role.', builtIn: true, permissions: r.permissions, updatedAt: null })),
      // A stored row that reuses a built-in id is not a custom role, whatever it says (rule 2).
      ...custom.filter((r) => !builtInRoleIds.has(r.id)).map((r) => view({ id: r.id, name: r.name, description: r.description, builtIn: false, permissions: JSON.parse(r.permissions) as Permission[], updatedAt: r.updated_at })),
    ];
  }

  role(tenantId: string, roleId: string): RoleView | undefined {
    return this.roles(tenantId).find((r) => r.id === roleId);
  }

  private assignments(tenantId: string): Assignment[] {
    return this.db
      .prepare<[string], { id: string; role_id: string; users: string; groups_: string; rooms: string; locations: string; tags: string }>('SELECT * FROM assignments WHERE tenant_id = ? ORDER BY id')
      .all(tenantId)
      .map((r) => ({
        id: r.id as Assignment['id'],
        roleId: r.role_id as Assignment['roleId'],
        users: JSON.parse(r.users) as string[],
        groups: JSON.parse(r.groups_) as string[],
        rooms: JSON.parse(r.rooms) as string[],
        locations: JSON.parse(r.locations) as string[],
        tags: JSON.parse(r.tags) as string[],
      }));
  }

  private writeAssignments(tenantId: string, roleId: string, assignments: NewRole['assignments']): void {
    // A scope naming a room or location that does not exist would wait for someone to create one with that id.
    const known = (table: 'rooms' | 'locations', id: string) => this.db.prepare(`SELECT 1 FROM ${table} WHERE tenant_id = ? AND id = ?`).get(tenantId, id) !== undefined;
    assignments.forEach((a, index) => {
      const room = a.rooms.find((id) => !known('rooms', id));
      if (room) throw new DirectoryError('bad_request', `Assignment ${index + 1} names a room that does not exist: ${room}.`);
      const location = a.locations.find((id) => !known('locations', id));
      if (location) throw new DirectoryError('bad_request', `Assignment ${index + 1} names a location that does not exist: ${location}.`);
    });
    this.db.prepare('DELETE FROM assignments WHERE tenant_id = ? AND role_id = ?').run(tenantId, roleId);
    const insert = this.db.prepare('INSERT INTO assignments (tenant_id, id, role_id, users, groups_, rooms, locations, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    const unique = (items: string[]) => JSON.stringify([...new Set(items)]);
    for (const a of assignments) insert.run(tenantId, newId('asg'), roleId, unique(a.users), unique(a.groups), unique(a.rooms), unique(a.locations), unique(a.tags));
  }

  /** Built-in role ids (and the role id of an assignment to one) are the only role ids a custom role cannot take. */
  createRole(tenantId: string, input: NewRole): RoleView {
    this.ensureTenant(tenantId);
    const id = newId('role');
    this.db.prepare('INSERT INTO roles (tenant_id, id, name, description, permissions, updated_at) VALUES (?, ?, ?, ?, ?, ?)').run(tenantId, id, input.name, input.description, JSON.stringify([...new Set(input.permissions)]), this.iso());
    this.writeAssignments(tenantId, id, input.assignments);
    this.policies.delete(tenantId);
    return this.role(tenantId, id)!;
  }

  updateRole(tenantId: string, roleId: string, input: NewRole): RoleView {
    this.assertCustom(tenantId, roleId);
    this.db.prepare('UPDATE roles SET name = ?, description = ?, permissions = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(input.name, input.description, JSON.stringify([...new Set(input.permissions)]), this.iso(), tenantId, roleId);
    this.writeAssignments(tenantId, roleId, input.assignments);
    this.policies.delete(tenantId);
    return this.role(tenantId, roleId)!;
  }

  /** Who holds a built-in role, and where: its assignments replaced (the role itself never changes). */
  assignBuiltIn(tenantId: string, roleId: string, assignments: NewRole['assignments']): RoleView {
    if (!builtInRoleIds.has(roleId)) throw new DirectoryError('bad_request', 'Only a built-in role is assigned here; a custom role is replaced with its assignments.');
    this.writeAssignments(tenantId, roleId, assignments);
    this.policies.delete(tenantId);
    return this.role(tenantId, roleId)!;
  }

  deleteRole(tenantId: string, roleId: string): RoleView {
    const before = this.assertCustom(tenantId, roleId);
    this.db.prepare('DELETE FROM assignments WHERE tenant_id = ? AND role_id = ?').run(tenantId, roleId);
    this.db.prepare('DELETE FROM roles WHERE tenant_id = ? AND id = ?').run(tenantId, roleId);
    this.policies.delete(tenantId);
    return before;
  }

  private assertCustom(tenantId: string, roleId: string): RoleView {
    const role = this.role(tenantId, roleId);
    if (!role) throw new DirectoryError('bad_request', 'No such role.');
    if (role.builtIn) throw new DirectoryError('not_permitted', 'Built-in roles are read-only.');
    return role;
  }

  /** The tenant's access policy for `packages/rbac`, cached until a setting, role or assignment changes. */
  policy(tenantId: string): Policy {
    let policy = this.policies.get(tenantId);
    if (!policy) {
      const views = this.roles(tenantId);
      const roles: Role[] = views.map((r) => ({ id: r.id, name: r.name, builtIn: r.builtIn, permissions: r.permissions }));
      policy = { tenantId, remoteAccessEnabled: this.remoteAccess(tenantId).enabled, roles, assignments: views.flatMap((r) => r.assignments) };
      this.policies.set(tenantId, policy);
    }
    return policy;
  }
}
