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
import { sql, type Kysely, type Selectable } from 'kysely';
import { retryingDeadlocks, reusable, type Store } from './engine';
import type { Tables } from './schema';

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
  /** Whether its agent is connected to a node, as the room monitor last wrote it. */
  online: boolean;
  updatedAt: string;
}

type RoomRow = Selectable<Tables['rooms']>;

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
  health: r.health as RoomHealth,
  online: r.online === 1,
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
  /** Each tenant's policy with the version it was read at (`tenants.policy_version`). */
  private readonly policies = new Map<string, { version: number; policy: Policy }>();
  private readonly principalsWritten = new Map<string, string>();

  /** Every health report's write: built once. */
  private readonly healthWrite;

  constructor(
    private readonly store: Store,
    private readonly now: () => Date,
  ) {
    this.healthWrite = reusable(store.db, (db, value: (name: 'id' | 'signals' | 'displays' | 'health' | 'at') => string) =>
      db.updateTable('rooms').set({ signals: value('signals'), displays: value('displays'), health: value('health'), updated_at: value('at') }).where('id', '=', value('id')).returningAll(),
    );
  }

  private iso(): string {
    return this.now().toISOString();
  }

  private get db(): Kysely<Tables> {
    return this.store.db;
  }

  async tenantExists(tenantId: string): Promise<boolean> {
    return (await this.db.selectFrom('tenants').select('id').where('id', '=', tenantId).executeTakeFirst()) !== undefined;
  }

  async ensureTenant(tenantId: string, db = this.db): Promise<void> {
    await db.insertInto('tenants').values({ id: tenantId }).onConflict((oc) => oc.doNothing()).execute();
  }

  async remoteAccess(tenantId: string, db = this.db): Promise<RemoteAccessSettings> {
    const row = await db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirst();
    return {
      enabled: row?.remote_access_enabled === 1,
      acknowledgedBy: row?.remote_access_ack_email ?? null,
      changedBy: row?.remote_access_changed_by ?? null,
      changedAt: row?.remote_access_changed_at ?? null,
      pointerControl: row?.pointer_control === 1,
    };
  }

  async setPointerControl(tenantId: string, enabled: boolean, db = this.db): Promise<RemoteAccessSettings> {
    await this.ensureTenant(tenantId, db);
    await db.updateTable('tenants').set({ pointer_control: enabled ? 1 : 0 }).where('id', '=', tenantId).execute();
    return this.remoteAccess(tenantId, db);
  }

  async setRemoteAccess(tenantId: string, enabled: boolean, ackEmail: string | null, changedBy: string, db = this.db): Promise<RemoteAccessSettings> {
    await this.ensureTenant(tenantId, db);
    await db
      .updateTable('tenants')
      .set({ remote_access_enabled: enabled ? 1 : 0, remote_access_ack_email: ackEmail, remote_access_changed_by: changedBy, remote_access_changed_at: this.iso() })
      .where('id', '=', tenantId)
      .execute();
    return this.remoteAccess(tenantId, db);
  }

  // Locations

  async locations(tenantId: string, db = this.db): Promise<Location[]> {
    const rows = await db.selectFrom('locations').select(['id', 'name', 'kind', 'parent_id']).where('tenant_id', '=', tenantId).orderBy('name').execute();
    return rows.map((r) => ({ id: r.id as Location['id'], name: r.name, kind: r.kind as LocationKind, parentId: r.parent_id as Location['parentId'] }));
  }

  async createLocation(tenantId: string, input: { name: string; kind: LocationKind; parentId: string | null }, db = this.db): Promise<Location> {
    await this.checkParent(tenantId, input.kind, input.parentId, db);
    await this.ensureTenant(tenantId, db);
    const id = newId('loc');
    await db.insertInto('locations').values({ tenant_id: tenantId, id, name: input.name, kind: input.kind, parent_id: input.parentId }).execute();
    return { id: id as Location['id'], name: input.name, kind: input.kind, parentId: input.parentId as Location['parentId'] };
  }

  async location(tenantId: string, id: string, db = this.db): Promise<Location | undefined> {
    return (await this.locations(tenantId, db)).find((l) => l.id === id);
  }

  /**
   * Renames a location or moves it under another parent of the right kind;
   * the rooms beneath it take the new path in the same write.
   */
  async updateLocation(tenantId: string, id: string, patch: { name?: string; parentId?: string }, db = this.db): Promise<Location> {
    const current = await this.location(tenantId, id, db);
    if (!current) throw new DirectoryError('bad_request', 'The location does not exist.');
    const parentId = patch.parentId ?? current.parentId;
    if (patch.parentId !== undefined) await this.checkParent(tenantId, current.kind, patch.parentId, db);
    await db.updateTable('locations').set({ name: patch.name ?? current.name, parent_id: parentId }).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    for (const room of await this.roomsUnder(tenantId, id, db)) {
      const path = JSON.stringify(await this.locationPath(tenantId, room.locationId, db));
      await db.updateTable('rooms').set({ location_path: path, updated_at: this.iso() }).where('tenant_id', '=', tenantId).where('id', '=', room.id).execute();
    }
    return (await this.location(tenantId, id, db))!;
  }

  /** Deletes a location that holds nothing: no locations, no rooms, and no role assignment names it. */
  async deleteLocation(tenantId: string, id: string, db = this.db): Promise<Location> {
    const current = await this.location(tenantId, id, db);
    if (!current) throw new DirectoryError('bad_request', 'The location does not exist.');
    const { n: children } = await db.selectFrom('locations').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('parent_id', '=', id).executeTakeFirstOrThrow();
    if (children > 0) throw new DirectoryError('conflict', `${current.name} still holds ${children} location(s). Move or delete them first.`);
    const rooms = (await this.roomsUnder(tenantId, id, db)).length;
    if (rooms > 0) throw new DirectoryError('conflict', `${current.name} still holds ${rooms} room(s). Move or retire them first.`);
    const roles = (await this.rolesNaming(tenantId, 'locations', id, db)).map((r) => r.name);
    if (roles.length > 0) throw new DirectoryError('conflict', `${current.name} is named by the role(s) ${[...new Set(roles)].join(', ')}. Change their assignments first.`);
    await db.deleteFrom('locations').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
    return current;
  }

  /** The assignments (with their role's name) whose scope names this room or location. */
  private rolesNaming(tenantId: string, scope: 'rooms' | 'locations', id: string, db: Kysely<Tables>) {
    return db
      .selectFrom('assignments as a')
      .innerJoin('roles as r', (join) => join.onRef('r.tenant_id', '=', 'a.tenant_id').onRef('r.id', '=', 'a.role_id'))
      .select(['a.id', 'a.rooms', 'r.name'])
      .where('a.tenant_id', '=', tenantId)
      .where(this.store.dialect.jsonArrayHas(sql.ref(`a.${scope}`), id))
      .execute();
  }

  /** Rooms at the location or anywhere beneath it. */
  async roomsUnder(tenantId: string, locationId: string, db = this.db): Promise<RoomRecord[]> {
    const rows = await db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenantId).where(this.store.dialect.jsonArrayHas(sql.ref('location_path'), locationId)).execute();
    return rows.map(toRoom);
  }

  private async checkParent(tenantId: string, kind: LocationKind, parentId: string | null, db: Kysely<Tables>): Promise<void> {
    // Regions hold buildings, buildings hold floors: nothing else nests, nothing below a region floats.
    const parentKind: Record<LocationKind, LocationKind | null> = { region: null, building: 'region', floor: 'building' };
    const wanted = parentKind[kind];
    if (wanted === null && parentId) throw new DirectoryError('bad_request', 'A region sits inside no other location.');
    if (wanted !== null) {
      const parent = parentId ? await this.locationRow(tenantId, parentId, db) : undefined;
      if (!parentId) throw new DirectoryError('bad_request', `A ${kind} needs a ${wanted} to sit inside.`);
      if (!parent) throw new DirectoryError('bad_request', 'The parent location does not exist.');
      if (parent.kind !== wanted) throw new DirectoryError('bad_request', `A ${kind} sits inside a ${wanted}, not a ${parent.kind}.`);
    }
  }

  private locationRow(tenantId: string, id: string, db: Kysely<Tables>) {
    return db.selectFrom('locations').select(['id', 'kind', 'parent_id']).where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  /** Location ids from the outermost (region) to `locationId` itself. */
  async locationPath(tenantId: string, locationId: string | null, db = this.db): Promise<string[]> {
    const path: string[] = [];
    for (let id = locationId; id !== null && path.length < 8; ) {
      const row = await this.locationRow(tenantId, id, db);
      if (!row) throw new DirectoryError('bad_request', 'The location does not exist.');
      path.unshift(row.id);
      id = row.parent_id;
    }
    return path;
  }

  // Rooms

  async rooms(tenantId: string, db = this.db): Promise<RoomRecord[]> {
    return (await db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute()).map(toRoom);
  }

  /** How many of the tenant's rooms are in each health, and how many of them are in a call: the dashboard's count for tenant-wide readers. */
  async roomCounts(tenantId: string): Promise<{ health: RoomHealth; rooms: number; inCall: number }[]> {
    const rows = await this.db
      .selectFrom('rooms')
      .select((eb) => ['health', eb.fn.countAll<number>().as('rooms'), eb.fn.sum<number>('in_call').as('inCall')])
      .where('tenant_id', '=', tenantId)
      .groupBy('health')
      .execute();
    return rows.map((r) => ({ health: r.health as RoomHealth, rooms: Number(r.rooms), inCall: Number(r.inCall) }));
  }

  /** Each room's scope, health and call, without the rest of the row: the dashboard's count for readers with a scope. */
  async roomScopes(tenantId: string): Promise<{ id: string; tenantId: string; location: string[]; tags: string[]; health: RoomHealth; inCall: boolean }[]> {
    const rows = await this.db.selectFrom('rooms').select(['id', 'location_path', 'tags', 'health', 'in_call']).where('tenant_id', '=', tenantId).execute();
    return rows.map((r) => ({ id: r.id, tenantId, location: JSON.parse(r.location_path) as string[], tags: JSON.parse(r.tags) as string[], health: r.health as RoomHealth, inCall: r.in_call === 1 }));
  }

  async room(tenantId: string, roomId: string, db = this.db): Promise<RoomRecord | undefined> {
    const row = await db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenantId).where('id', '=', roomId).executeTakeFirst();
    return row && toRoom(row);
  }

  /** For the agent hub, which knows a room id before it knows the tenant. */
  async roomById(roomId: string, db = this.db): Promise<RoomRecord | undefined> {
    const row = await db.selectFrom('rooms').selectAll().where('id', '=', roomId).executeTakeFirst();
    return row && toRoom(row);
  }

  async createRoom(tenantId: string, input: NewRoom, db = this.db): Promise<RoomRecord> {
    await this.ensureTenant(tenantId, db);
    const id = newId('room');
    await db
      .insertInto('rooms')
      .values({ tenant_id: tenantId, id, ...(await this.roomColumns(tenantId, input, db)) })
      .execute();
    return (await this.room(tenantId, id, db))!;
  }

  async updateRoom(tenantId: string, roomId: string, patch: Partial<NewRoom>, db = this.db): Promise<RoomRecord> {
    const current = await this.room(tenantId, roomId, db);
    if (!current) throw new DirectoryError('room_not_found', 'No such room.');
    await db
      .updateTable('rooms')
      .set(await this.roomColumns(tenantId, { ...current, ...patch }, db))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', roomId)
      .execute();
    return (await this.room(tenantId, roomId, db))!;
  }

  /** What a room's row holds of what an administrator says about it: its location's path is looked up, its tags are a set. */
  private async roomColumns(tenantId: string, room: NewRoom, db: Kysely<Tables>) {
    return {
      name: room.name,
      location_id: room.locationId,
      location_path: JSON.stringify(await this.locationPath(tenantId, room.locationId, db)),
      tags: JSON.stringify([...new Set(room.tags)]),
      platform: room.platform,
      license: room.license,
      updated_at: this.iso(),
    };
  }

  /**
   * Takes a room out of the directory: its row, its unused codes, and its id
   * in any assignment (a scope that named only this room names nothing now).
   * Its audit records and session history stay. Returns the role names whose
   * assignments changed.
   */
  async retireRoom(tenantId: string, roomId: string, db = this.db): Promise<string[]> {
    if (!(await this.room(tenantId, roomId, db))) throw new DirectoryError('room_not_found', 'No such room.');
    const named = await this.rolesNaming(tenantId, 'rooms', roomId, db);
    for (const a of named) {
      const rooms = JSON.stringify((JSON.parse(a.rooms) as string[]).filter((id) => id !== roomId));
      await db.updateTable('assignments').set({ rooms }).where('tenant_id', '=', tenantId).where('id', '=', a.id).execute();
    }
    await db.deleteFrom('enrollment_codes').where('tenant_id', '=', tenantId).where('room_id', '=', roomId).execute();
    await db.deleteFrom('rooms').where('tenant_id', '=', tenantId).where('id', '=', roomId).execute();
    return [...new Set(named.map((a) => a.name))];
  }

  /** Forgets the room's device: its key no longer proves the room, and its unused codes are void. */
  async revokeDevice(tenantId: string, roomId: string, db = this.db): Promise<RoomRecord> {
    if (!(await this.room(tenantId, roomId, db))) throw new DirectoryError('room_not_found', 'No such room.');
    await db.deleteFrom('enrollment_codes').where('tenant_id', '=', tenantId).where('room_id', '=', roomId).where('used_at', 'is', null).execute();
    await db.updateTable('rooms').set({ agent_public_key: null, enrolled_at: null, updated_at: this.iso() }).where('tenant_id', '=', tenantId).where('id', '=', roomId).execute();
    return (await this.room(tenantId, roomId, db))!;
  }

  /**
   * Remembers who signed in and the groups their token carried, for the role
   * wizard's pickers. Every request calls this: it writes only when something
   * changed or an hour has passed.
   */
  async recordPrincipals(tenantId: string, user: { id: string; name: string; username: string }, groups: readonly string[]): Promise<void> {
    const key = `${tenantId}\n${user.id}`;
    const signature = JSON.stringify([user.name, user.username, groups, Math.floor(this.now().getTime() / 3_600_000)]);
    if (this.principalsWritten.get(key) === signature) return;
    if (this.principalsWritten.size > 100_000) this.principalsWritten.clear();
    this.principalsWritten.set(key, signature);
    const at = this.iso();
    await this.db
      .insertInto('principals')
      .values([{ tenant_id: tenantId, kind: 'user', id: user.id, name: user.name, username: user.username, seen_at: at }, ...[...new Set(groups)].map((group) => ({ tenant_id: tenantId, kind: 'group', id: group, name: group, username: '', seen_at: at }))])
      .onConflict((oc) => oc.columns(['tenant_id', 'kind', 'id']).doUpdateSet((eb) => ({ name: eb.ref('excluded.name'), username: eb.ref('excluded.username'), seen_at: eb.ref('excluded.seen_at') })))
      .execute();
  }

  async principals(tenantId: string): Promise<{ users: { id: string; name: string; username: string }[]; groups: { id: string }[] }> {
    const rows = await this.db.selectFrom('principals').select(['kind', 'id', 'name', 'username']).where('tenant_id', '=', tenantId).orderBy('name').execute();
    return { users: rows.filter((r) => r.kind === 'user').map(({ id, name, username }) => ({ id, name, username })), groups: rows.filter((r) => r.kind === 'group').map(({ id }) => ({ id })) };
  }

  /** What the room's agent last said, and the health the room monitor makes of it (see `roomHealth`). */
  async recordAgentState(roomId: string, live: Pick<RoomRecord, 'signals' | 'inCall' | 'displays' | 'lastSeenAt' | 'health' | 'online'>, db = this.db): Promise<void> {
    await db
      .updateTable('rooms')
      .set({
        signals: live.signals && JSON.stringify(live.signals),
        in_call: live.inCall ? 1 : 0,
        displays: JSON.stringify(live.displays),
        last_seen_at: live.lastSeenAt,
        health: live.health,
        online: live.online ? 1 : 0,
        updated_at: this.iso(),
      })
      .where('id', '=', roomId)
      .execute();
  }

  /**
   * A health report's write: its signals, displays and the health they make,
   * in one statement that gives back the room as it now stands (the rest of
   * the row is not the report's to change). Undefined for a retired room.
   */
  async recordHealth(roomId: string, report: { signals: HealthSignals; displays: DisplayInfo[]; health: RoomHealth }, db = this.db): Promise<RoomRecord | undefined> {
    const [row] = await this.healthWrite(db, { id: roomId, signals: JSON.stringify(report.signals), displays: JSON.stringify(report.displays), health: report.health, at: this.iso() });
    return row && toRoom(row);
  }


  async recordLastSeen(roomIds: readonly string[]): Promise<void> {
    const at = this.iso();
    for (let i = 0; i < roomIds.length; i += 1_000) {
      const chunk = roomIds.slice(i, i + 1_000);
      await retryingDeadlocks(this.store, () => this.db.updateTable('rooms').set({ last_seen_at: at }).where(this.store.dialect.inList(sql.ref('id'), chunk)).execute());
    }
  }

  // Enrollment

  async issueEnrollmentCode(tenantId: string, roomId: string, db = this.db): Promise<{ code: string; expiresAt: string }> {
    if (!(await this.room(tenantId, roomId, db))) throw new DirectoryError('room_not_found', 'No such room.');
    // 20 characters of Crockford base32: 100 bits, typed by hand at worst.
    const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
    const code = [...randomBytes(20)].map((b) => alphabet[b & 31]).join('');
    const expiresAt = new Date(this.now().getTime() + ENROLLMENT_CODE_TTL_MS).toISOString();
    await db.insertInto('enrollment_codes').values({ code_hash: hashCode(code), tenant_id: tenantId, room_id: roomId, expires_at: expiresAt }).execute();
    return { code, expiresAt };
  }

  /** Spends a one-time code: binds the agent's public key to the room. Unknown, expired and used codes look the same. */
  async enroll(code: string, publicKey: string, platform: Platform, db = this.db): Promise<RoomRecord> {
    const row = await db.selectFrom('enrollment_codes').selectAll().where('code_hash', '=', hashCode(code)).executeTakeFirst();
    if (!row || row.used_at !== null || row.expires_at <= this.iso()) throw new DirectoryError('enrollment_code_invalid', 'The code is not valid.');
    const used = await db.updateTable('enrollment_codes').set({ used_at: this.iso() }).where('code_hash', '=', hashCode(code)).where('used_at', 'is', null).executeTakeFirst();
    if (used.numUpdatedRows !== 1n) throw new DirectoryError('enrollment_code_invalid', 'The code is not valid.');
    await db.updateTable('rooms').set({ agent_public_key: publicKey, enrolled_at: this.iso(), platform, updated_at: this.iso() }).where('tenant_id', '=', row.tenant_id).where('id', '=', row.room_id).execute();
    return (await this.room(row.tenant_id, row.room_id, db))!;
  }

  // Roles and assignments

  async roles(tenantId: string, db = this.db): Promise<RoleView[]> {
    const assignments = await this.assignments(tenantId, db);
    const custom = await db.selectFrom('roles').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
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

  async role(tenantId: string, roleId: string, db = this.db): Promise<RoleView | undefined> {
    return (await this.roles(tenantId, db)).find((r) => r.id === roleId);
  }

  private async assignments(tenantId: string, db: Kysely<Tables>): Promise<Assignment[]> {
    const rows = await db.selectFrom('assignments').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id as Assignment['id'],
      roleId: r.role_id as Assignment['roleId'],
      users: JSON.parse(r.users) as string[],
      groups: JSON.parse(r.groups_) as string[],
      rooms: JSON.parse(r.rooms) as string[],
      locations: JSON.parse(r.locations) as string[],
      tags: JSON.parse(r.tags) as string[],
    }));
  }

  private async writeAssignments(tenantId: string, roleId: string, assignments: NewRole['assignments'], db: Kysely<Tables>): Promise<void> {
    // A scope naming a room or location that does not exist would wait for someone to create one with that id.
    const known = async (table: 'rooms' | 'locations', ids: readonly string[]) =>
      new Set(ids.length === 0 ? [] : (await db.selectFrom(table).select('id').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute()).map((r) => r.id));
    for (const [index, a] of assignments.entries()) {
      const rooms = await known('rooms', a.rooms);
      const room = a.rooms.find((id) => !rooms.has(id));
      if (room) throw new DirectoryError('bad_request', `Assignment ${index + 1} names a room that does not exist: ${room}.`);
      const locations = await known('locations', a.locations);
      const location = a.locations.find((id) => !locations.has(id));
      if (location) throw new DirectoryError('bad_request', `Assignment ${index + 1} names a location that does not exist: ${location}.`);
    }
    await db.deleteFrom('assignments').where('tenant_id', '=', tenantId).where('role_id', '=', roleId).execute();
    const unique = (items: string[]) => JSON.stringify([...new Set(items)]);
    if (assignments.length === 0) return;
    await db
      .insertInto('assignments')
      .values(assignments.map((a) => ({ tenant_id: tenantId, id: newId('asg'), role_id: roleId, users: unique(a.users), groups_: unique(a.groups), rooms: unique(a.rooms), locations: unique(a.locations), tags: unique(a.tags) })))
      .execute();
  }

  /** Built-in role ids (and the role id of an assignment to one) are the only role ids a custom role cannot take. */
  async createRole(tenantId: string, input: NewRole, db = this.db): Promise<RoleView> {
    await this.ensureTenant(tenantId, db);
    const id = newId('role');
    await db.insertInto('roles').values({ tenant_id: tenantId, id, name: input.name, description: input.description, permissions: JSON.stringify([...new Set(input.permissions)]), updated_at: this.iso() }).execute();
    await this.writeAssignments(tenantId, id, input.assignments, db);
    return (await this.role(tenantId, id, db))!;
  }

  async updateRole(tenantId: string, roleId: string, input: NewRole, db = this.db): Promise<RoleView> {
    await this.assertCustom(tenantId, roleId, db);
    await db
      .updateTable('roles')
      .set({ name: input.name, description: input.description, permissions: JSON.stringify([...new Set(input.permissions)]), updated_at: this.iso() })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', roleId)
      .execute();
    await this.writeAssignments(tenantId, roleId, input.assignments, db);
    return (await this.role(tenantId, roleId, db))!;
  }

  /** Who holds a built-in role, and where: its assignments replaced (the role itself never changes). */
  async assignBuiltIn(tenantId: string, roleId: string, assignments: NewRole['assignments'], db = this.db): Promise<RoleView> {
    if (!builtInRoleIds.has(roleId)) throw new DirectoryError('bad_request', 'Only a built-in role is assigned here; a custom role is replaced with its assignments.');
    await this.writeAssignments(tenantId, roleId, assignments, db);
    return (await this.role(tenantId, roleId, db))!;
  }

  async deleteRole(tenantId: string, roleId: string, db = this.db): Promise<RoleView> {
    const before = await this.assertCustom(tenantId, roleId, db);
    await db.deleteFrom('assignments').where('tenant_id', '=', tenantId).where('role_id', '=', roleId).execute();
    await db.deleteFrom('roles').where('tenant_id', '=', tenantId).where('id', '=', roleId).execute();
    return before;
  }

  private async assertCustom(tenantId: string, roleId: string, db: Kysely<Tables>): Promise<RoleView> {
    const role = await this.role(tenantId, roleId, db);
    if (!role) throw new DirectoryError('bad_request', 'No such role.');
    if (role.builtIn) throw new DirectoryError('not_permitted', 'Built-in roles are read-only.');
    return role;
  }

  /**
   * Says, inside the change's transaction, that who may do what in the
   * tenant changed (a setting, a role, an assignment, a room's scope): every
   * node reads the policy again at its next use, once the change commits.
   */
  async policyChanged(tenantId: string, db = this.db): Promise<void> {
    await db
      .updateTable('tenants')
      .set((eb) => ({ policy_version: eb('policy_version', '+', 1) }))
      .where('id', '=', tenantId)
      .execute();
  }

  /** The tenant's access policy for `packages/rbac`: kept while the tenant's policy version stays, so a change on any node is seen on every node. */
  async policy(tenantId: string, db = this.db): Promise<Policy> {
    const version = (await db.selectFrom('tenants').select('policy_version').where('id', '=', tenantId).executeTakeFirst())?.policy_version ?? 0;
    const cached = this.policies.get(tenantId);
    if (cached?.version === version) return cached.policy;
    const views = await this.roles(tenantId, db);
    const roles: Role[] = views.map((r) => ({ id: r.id, name: r.name, builtIn: r.builtIn, permissions: r.permissions }));
    const policy = { tenantId, remoteAccessEnabled: (await this.remoteAccess(tenantId, db)).enabled, roles, assignments: views.flatMap((r) => r.assignments) };
    this.policies.set(tenantId, { version, policy });
    return policy;
  }
}
