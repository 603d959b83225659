import { z } from 'zod';
import { criticalSignals, EndReason, HealthSignal, healthSignalLabels, HealthSignals, License, Platform, RemoteAccessLevel, RoomHealth, RoomSubject, SessionLevel, SessionState } from './domain';
import { AssignmentId, LocationId, RoleId, RoomId, SessionId, TenantId, UserId } from './ids';
import { DisplayInfo, ErrorCodeSchema, InputCounts } from './protocol/agent';
import { IceServer, IceTransportPolicy } from './protocol/common';

/** REST bodies and responses of the server's /api, shared by the server and the console. */

/** The answer of a call that only says it was done. */
export const Ok = z.strictObject({ ok: z.literal(true) });
export const ApiError = z.strictObject({ error: z.strictObject({ code: ErrorCodeSchema, message: z.string(), details: z.array(z.string()).optional() }) });
export type ApiError = z.infer<typeof ApiError>;

const Name = z.string().trim().min(1).max(120);
const IsoTime = z.iso.datetime();
export const Tag = z.string().trim().min(1).max(40).regex(/^[\w .-]+$/, 'tags use letters, digits, space, dot, dash');
/** Ids a person refers to in assignments: user object ids, group ids, room/location ids, tags. */
const Ref = z.string().trim().min(1).max(128);

export const Permission = z.enum(['rooms.read', 'rooms.manage', 'incidents.manage', 'settings.manage', 'audit.read', 'remoteAccess.view', 'remoteAccess.modify']);
export type Permission = z.infer<typeof Permission>;

export const Me = z.strictObject({
  userId: UserId,
  name: z.string(),
  username: z.string(),
  tenantId: TenantId,
  canManageRoles: z.boolean(),
  /** Only a Global Administrator assigns the Pro Manager role. */
  isGlobalAdministrator: z.boolean(),
  permissions: z.array(Permission),
});
export type Me = z.infer<typeof Me>;

export const RemoteAccessSettings = z.strictObject({
  enabled: z.boolean(),
  acknowledgedBy: z.string().nullable(),
  changedBy: z.string().nullable(),
  changedAt: IsoTime.nullable(),
  /** Mouse and touch in modify sessions, beside the keyboard: off until an administrator turns it on. */
  pointerControl: z.boolean(),
});
export type RemoteAccessSettings = z.infer<typeof RemoteAccessSettings>;
export const SetRemoteAccess = z.discriminatedUnion('enabled', [
  z.strictObject({ enabled: z.literal(true), acknowledgingEmail: z.email().max(254) }),
  z.strictObject({ enabled: z.literal(false) }),
]);
export type SetRemoteAccess = z.infer<typeof SetRemoteAccess>;
export const SetPointerControl = z.strictObject({ enabled: z.boolean() });
export type SetPointerControl = z.infer<typeof SetPointerControl>;

export const AssignmentInput = z.strictObject({
  users: z.array(Ref).max(500).default([]),
  groups: z.array(Ref).max(500).default([]),
  rooms: z.array(Ref).max(5000).default([]),
  locations: z.array(Ref).max(500).default([]),
  tags: z.array(Tag).max(100).default([]),
});
export type AssignmentInput = z.input<typeof AssignmentInput>;
export const Assignment = z.strictObject({
  id: AssignmentId,
  roleId: RoleId,
  users: z.array(z.string()),
  groups: z.array(z.string()),
  rooms: z.array(z.string()),
  locations: z.array(z.string()),
  tags: z.array(z.string()),
});
export type Assignment = z.infer<typeof Assignment>;

export const RoleInput = z.strictObject({
  name: Name,
  description: z.string().trim().max(500).default(''),
  permissions: z.array(Permission).min(1).max(7),
  assignments: z.array(AssignmentInput).max(100).default([]),
});
export type RoleInput = z.input<typeof RoleInput>;
export const RoleView = z.strictObject({
  id: RoleId,
  name: z.string(),
  description: z.string(),
  builtIn: z.boolean(),
  permissions: z.array(Permission),
  assignments: z.array(Assignment),
  updatedAt: IsoTime.nullable(),
});
export type RoleView = z.infer<typeof RoleView>;

export const LocationKind = z.enum(['region', 'building', 'floor']);
export type LocationKind = z.infer<typeof LocationKind>;
export const LocationInput = z.strictObject({ name: Name, kind: LocationKind, parentId: LocationId.nullable().default(null) });
export type LocationInput = z.input<typeof LocationInput>;
/** Rename, or move under another parent of the right kind (a building into another region, a floor into another building). */
export const LocationPatch = z.strictObject({ name: Name, parentId: LocationId }).partial();
export type LocationPatch = z.infer<typeof LocationPatch>;
export const Location = z.strictObject({ id: LocationId, name: z.string(), kind: LocationKind, parentId: LocationId.nullable() });
export type Location = z.infer<typeof Location>;
/** A location as a room's path names it: what a list shows and filters by, without the tree's own fields (10,000 rooms carry three each). */
export const LocationRef = z.strictObject({ id: LocationId, name: z.string() });
export type LocationRef = z.infer<typeof LocationRef>;

const roomFields = {
  name: Name,
  locationId: LocationId.nullable(),
  tags: z.array(Tag).max(20),
  platform: Platform,
  license: License,
};
export const RoomInput = z.strictObject({
  ...roomFields,
  locationId: roomFields.locationId.default(null),
  tags: roomFields.tags.default([]),
  platform: roomFields.platform.default('windows'),
  license: roomFields.license.default('pro'),
});
export type RoomInput = z.input<typeof RoomInput>;
/** Only the fields sent change: no defaults here, or an empty patch would reset the room. */
export const RoomPatch = z.strictObject(roomFields).partial();
export type RoomPatch = z.infer<typeof RoomPatch>;
export const Room = z.strictObject({
  id: RoomId,
  name: z.string(),
  locationId: LocationId.nullable(),
  /** Region, building, floor, outermost first. */
  locationPath: z.array(LocationRef),
  tags: z.array(z.string()),
  platform: Platform,
  license: License,
  enrolled: z.boolean(),
  online: z.boolean(),
  /** Monitored for remote access: a Pro license and an enrolled agent. */
  monitored: z.boolean(),
  inCall: z.boolean(),
  health: RoomHealth,
  signals: HealthSignals.nullable(),
  displays: z.array(DisplayInfo),
  lastSeenAt: IsoTime.nullable(),
  /** The caller's remote-access level for this room. */
  remoteAccess: RemoteAccessLevel,
  updatedAt: IsoTime,
});
export type Room = z.infer<typeof Room>;

export const EnrollmentCode = z.strictObject({ code: z.string(), expiresAt: IsoTime });
export const LogBundleStatus = z.enum(['requested', 'ready', 'failed']);
/** Logs a room was asked for: waiting, ready to download, or failed (the room never sent them). */
export const LogBundle = z.strictObject({
  id: z.string(),
  roomId: RoomId,
  status: LogBundleStatus,
  requestedBy: z.string(),
  requestedAt: IsoTime,
  receivedAt: IsoTime.nullable(),
  size: z.number().int().nonnegative().nullable(),
  sha256: z.string().nullable(),
  /** Why it failed, in words. */
  problem: z.string().nullable(),
});
export type LogBundle = z.infer<typeof LogBundle>;
/** The most a room may upload as one bundle (gzip), and how long bundles are kept. */
export const LOG_BUNDLE_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_BUNDLE_RETENTION_DAYS = 30;

/** One change in a room's state, from its history. */
export const RoomEvent = z.strictObject({ at: IsoTime, subject: RoomSubject, state: z.string() });
export type RoomEvent = z.infer<typeof RoomEvent>;
/**
 * How bad each state of a subject is, from 0 (good) to 3 (gone): what a
 * summarised history keeps of a stretch of changes, and what a timeline colours.
 */
export const stateLevels: Readonly<Record<string, number>> = { ok: 0, healthy: 0, online: 0, free: 0, warning: 1, nonUrgent: 1, inCall: 1, error: 2, critical: 2, offline: 3 };
export const stateLevel = (state: string): number | null => stateLevels[state] ?? null;

/** The step a timeline asks for over a window of `windowMs`: 1,000 moments, more than a lane in the room details has pixels. */
export const timelineStep = (windowMs: number): number => Math.max(1, Math.round(windowMs / 1000 / 1000));

export const RoomHistoryQuery = z.strictObject({
  from: IsoTime,
  to: IsoTime.optional(),
  /** Seconds: changes of a subject closer than this are summarised (a chart's pixel); every change when absent. */
  step: z.coerce.number().int().min(1).max(86_400).optional(),
});
/**
 * The room's events in the window, with the state of every subject as it
 * stood when the window opened. With a `step`, the window is cut into steps
 * from `from`, and each subject gets the worst state it was in during each
 * step, at the step's start, wherever that differs from the step before: a
 * chart's pixel shows the worst of its moment, so a brief failure never
 * falls between two, and a room flapping all month is a few events.
 */
export const RoomHistory = z.strictObject({ from: IsoTime, to: IsoTime, step: z.number().int().nullable(), initial: z.array(RoomEvent), events: z.array(RoomEvent) });
export type RoomHistory = z.infer<typeof RoomHistory>;

/** Why an incident opened: the room went offline, or one health signal failed. */
export const IncidentCause = z.enum(['offline', ...HealthSignal.options.map((s) => `signal.${s}` as const)]);
export type IncidentCause = z.infer<typeof IncidentCause>;
export const IncidentSeverity = z.enum(['critical', 'warning']);
/** How many of the newest open incidents the dashboard lists. */
export const DASHBOARD_NEWEST = 5;
export type IncidentSeverity = z.infer<typeof IncidentSeverity>;
/** Detected (opened by a rule), Active (someone acknowledged it), Investigating (assigned), Resolved (by hand, or automatically once recovered). */
export const IncidentState = z.enum(['detected', 'active', 'investigating', 'resolved']);
export type IncidentState = z.infer<typeof IncidentState>;
export const Incident = z.strictObject({
  id: z.string(),
  roomId: RoomId,
  roomName: z.string(),
  cause: IncidentCause,
  severity: IncidentSeverity,
  state: IncidentState,
  openedAt: IsoTime,
  updatedAt: IsoTime,
  resolvedAt: IsoTime.nullable(),
  /** Resolved because the room recovered, not by a person. */
  autoResolved: z.boolean(),
  /** How often it failed again soon after it was resolved. */
  reopened: z.number().int().nonnegative(),
  assigneeId: z.string().nullable(),
  assigneeName: z.string().nullable(),
});
export type Incident = z.infer<typeof Incident>;
export const IncidentEntry = z.strictObject({
  at: IsoTime,
  kind: z.enum(['opened', 'acknowledged', 'assigned', 'note', 'resolved', 'autoResolved', 'reopened']),
  by: z.string().nullable(),
  text: z.string().nullable(),
});
export type IncidentEntry = z.infer<typeof IncidentEntry>;
export const IncidentDetail = z.strictObject({ incident: Incident, timeline: z.array(IncidentEntry) });
export type IncidentDetail = z.infer<typeof IncidentDetail>;
export const IncidentQuery = z.strictObject({
  state: z.enum(['open', ...IncidentState.options]).optional(),
  severity: IncidentSeverity.optional(),
  roomId: Ref.optional(),
  locationId: Ref.optional(),
  assigneeId: Ref.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export type IncidentQuery = z.input<typeof IncidentQuery>;
const Count = z.number().int().nonnegative();
/**
 * The home dashboard in one answer, over what the caller may see: rooms by
 * health and in a call, open incidents by severity with the newest few, and
 * sessions in progress (null for those who may not read sessions).
 */
export const DashboardSummary = z.strictObject({
  rooms: z.strictObject({ total: Count, byHealth: z.record(RoomHealth, Count), inCall: Count }),
  incidents: z.strictObject({ open: z.record(IncidentSeverity, Count), newest: z.array(Incident).max(DASHBOARD_NEWEST) }),
  sessionsInProgress: Count.nullable(),
});
export type DashboardSummary = z.infer<typeof DashboardSummary>;
export const IncidentNote = z.strictObject({ text: z.string().trim().min(1).max(4000) });
export const IncidentAssign = z.strictObject({ userId: Ref, name: z.string().trim().min(1).max(200) });
/**
 * The tenant's incident rules. A signal in error for `signalErrorMinutes`
 * opens an incident of that signal's severity; a room offline for
 * `offlineMinutes` opens a critical one; an incident whose cause has been
 * gone for `recoverMinutes` resolves itself; a cause back within
 * `reopenMinutes` of resolving reopens it.
 */
export const IncidentRules = z.strictObject({
  signalErrorMinutes: z.number().int().min(1).max(1440),
  offlineMinutes: z.number().int().min(1).max(1440),
  recoverMinutes: z.number().int().min(1).max(1440),
  reopenMinutes: z.number().int().min(0).max(10080),
  signalSeverity: z.strictObject(Object.fromEntries(HealthSignal.options.map((s) => [s, IncidentSeverity])) as Record<HealthSignal, typeof IncidentSeverity>),
});
export type IncidentRules = z.infer<typeof IncidentRules>;
export const defaultIncidentRules: IncidentRules = {
  signalErrorMinutes: 2,
  offlineMinutes: 5,
  recoverMinutes: 2,
  reopenMinutes: 30,
  signalSeverity: Object.fromEntries(HealthSignal.options.map((s) => [s, criticalSignals.has(s) ? 'critical' : 'warning'])) as Record<HealthSignal, IncidentSeverity>,
};
export const incidentCauseLabels: Record<IncidentCause, string> = {
  offline: 'Room offline',
  ...(Object.fromEntries(HealthSignal.options.map((s) => [`signal.${s}`, `${healthSignalLabels[s]} failing`])) as Record<`signal.${HealthSignal}`, string>),
};

/** Which incidents an alert rule is about (empty = any) and at which moments. */
export const AlertRuleInput = z.strictObject({
  name: Name,
  enabled: z.boolean().default(true),
  severities: z.array(IncidentSeverity).max(2).default([]),
  causes: z.array(IncidentCause).max(16).default([]),
  locations: z.array(Ref).max(100).default([]),
  tags: z.array(Tag).max(100).default([]),
  onOpen: z.boolean().default(true),
  onChange: z.boolean().default(false),
  onResolve: z.boolean().default(true),
  emails: z.array(z.email().max(254)).max(50).default([]),
  webhookIds: z.array(Ref).max(20).default([]),
});
export type AlertRuleInput = z.input<typeof AlertRuleInput>;
export const AlertRule = AlertRuleInput.extend({ id: z.string() }).required();
export type AlertRule = z.infer<typeof AlertRule>;

export const WebhookFormat = z.enum(['json', 'teams']);
export const WebhookInput = z.strictObject({
  name: Name,
  url: z.url({ protocol: /^https?$/, hostname: z.regexes.hostname }).max(2000),
  format: WebhookFormat.default('json'),
});
export type WebhookInput = z.input<typeof WebhookInput>;
export const Webhook = z.strictObject({
  id: z.string(),
  name: z.string(),
  url: z.string(),
  format: WebhookFormat,
  /** Disabled after repeated failure, with why; null while it works. */
  disabledReason: z.string().nullable(),
  consecutiveFailures: z.number().int().nonnegative(),
});
export type Webhook = z.infer<typeof Webhook>;
/** A new webhook with its signing secret, shown this once. */
export const WebhookCreated = z.strictObject({ webhook: Webhook, secret: z.string() });

export const DeliveryState = z.enum(['pending', 'delivered', 'dead']);
export const Delivery = z.strictObject({
  id: z.string(),
  ruleId: z.string(),
  incidentId: z.string(),
  channel: z.enum(['email', 'webhook']),
  target: z.string(),
  event: z.string(),
  state: DeliveryState,
  attempts: z.number().int(),
  lastStatus: z.string().nullable(),
  createdAt: IsoTime,
  deliveredAt: IsoTime.nullable(),
  nextAttemptAt: IsoTime.nullable(),
});
export type Delivery = z.infer<typeof Delivery>;
/** Mail the development catcher received (npm start), newest first. */
export const CaughtMail = z.strictObject({ at: IsoTime, from: z.string(), to: z.array(z.string()), subject: z.string(), text: z.string() });
export type CaughtMail = z.infer<typeof CaughtMail>;

/** People who have signed in and the groups their tokens carried: what a role's assignments can name. */
export const Principals = z.strictObject({
  users: z.array(z.strictObject({ id: z.string(), name: z.string(), username: z.string() })),
  groups: z.array(z.strictObject({ id: z.string() })),
});
export type Principals = z.infer<typeof Principals>;
export type EnrollmentCode = z.infer<typeof EnrollmentCode>;

export const StartSession = z.strictObject({ roomId: RoomId });
export const SessionStarted = z.strictObject({
  sessionId: SessionId,
  roomId: RoomId,
  roomName: z.string(),
  level: SessionLevel,
  iceServers: z.array(IceServer),
  iceTransportPolicy: IceTransportPolicy,
});
export type SessionStarted = z.infer<typeof SessionStarted>;
export const SessionView = z.strictObject({
  id: SessionId,
  roomId: RoomId,
  roomName: z.string(),
  userId: UserId,
  userName: z.string(),
  level: SessionLevel,
  state: SessionState,
  startedAt: IsoTime,
  endedAt: IsoTime.nullable(),
  endReason: EndReason.nullable(),
  /** Null when nobody knows: the server lost the session and the room never reported its counts. */
  input: InputCounts.nullable(),
});
export type SessionView = z.infer<typeof SessionView>;

export const AuditType = z.enum([
  'remoteAccess.enabled',
  'remoteAccess.disabled',
  'pointerControl.enabled',
  'pointerControl.disabled',
  'role.created',
  'role.updated',
  'role.deleted',
  'location.created',
  'location.updated',
  'location.deleted',
  'room.created',
  'room.updated',
  'room.retired',
  'room.enrollmentCodeIssued',
  'room.enrolled',
  'room.deviceRevoked',
  'room.restartRequested',
  'room.logsRequested',
  'room.logsCollected',
  'incident.opened',
  'incident.changed',
  'incidentRules.updated',
  'alertRule.created',
  'alertRule.updated',
  'alertRule.deleted',
  'webhook.created',
  'webhook.deleted',
  'webhook.disabled',
  'session.refused',
  'session.started',
  'session.rejected',
  'session.lowered',
  'session.adopted',
  'session.ended',
  'agent.proofFailed',
  'audit.purged',
]);
export type AuditType = z.infer<typeof AuditType>;
/** What each kind of record is called where people read the audit. */
export const auditTypeLabels: Record<AuditType, string> = {
  'remoteAccess.enabled': 'Remote access turned on',
  'remoteAccess.disabled': 'Remote access turned off',
  'pointerControl.enabled': 'Pointer control turned on',
  'pointerControl.disabled': 'Pointer control turned off',
  'role.created': 'Role created',
  'role.updated': 'Role changed',
  'role.deleted': 'Role deleted',
  'location.created': 'Location created',
  'location.updated': 'Location changed',
  'location.deleted': 'Location deleted',
  'room.created': 'Room created',
  'room.updated': 'Room changed',
  'room.retired': 'Room retired',
  'room.enrollmentCodeIssued': 'Enrollment code issued',
  'room.enrolled': 'Room enrolled',
  'room.deviceRevoked': 'Device enrollment revoked',
  'room.restartRequested': 'Restart requested',
  'room.logsRequested': 'Logs requested',
  'room.logsCollected': 'Logs collected',
  'incident.opened': 'Incident opened',
  'incident.changed': 'Incident changed',
  'incidentRules.updated': 'Incident rules changed',
  'alertRule.created': 'Alert rule created',
  'alertRule.updated': 'Alert rule changed',
  'alertRule.deleted': 'Alert rule deleted',
  'webhook.created': 'Webhook added',
  'webhook.deleted': 'Webhook removed',
  'webhook.disabled': 'Webhook disabled after failures',
  'session.refused': 'Session refused',
  'session.started': 'Session started',
  'session.rejected': 'Session refused by the room',
  'session.lowered': 'Session access lowered',
  'session.adopted': 'Session taken over by another server node',
  'session.ended': 'Session ended',
  'agent.proofFailed': 'Device failed to prove its identity',
  'audit.purged': 'Old records purged',
};

export const AuditRecord = z.strictObject({
  seq: z.number().int(),
  at: IsoTime,
  type: AuditType,
  actorId: z.string().nullable(),
  actorName: z.string().nullable(),
  roomId: z.string().nullable(),
  roomName: z.string().nullable(),
  sessionId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  hash: z.string(),
});
export type AuditRecord = z.infer<typeof AuditRecord>;
export const AuditQuery = z.strictObject({
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  type: AuditType.optional(),
  roomId: Ref.optional(),
  userId: Ref.optional(),
  /** Part of the name of who did it, any case. */
  actor: z.string().trim().min(1).max(120).optional(),
  /** Records with a smaller seq than this, newest first. */
  before: z.coerce.number().int().positive().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export type AuditQuery = z.input<typeof AuditQuery>;
/** The CSV export's query: the same filters, and every record that matches them (streamed). */
export const AuditExportQuery = AuditQuery.omit({ before: true, limit: true });
export type AuditExportQuery = z.input<typeof AuditExportQuery>;
export const AuditPage = z.strictObject({ records: z.array(AuditRecord), nextBefore: z.number().int().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;
export const AuditVerification = z.strictObject({
  ok: z.boolean(),
  checked: z.number().int(),
  firstBadSeq: z.number().int().nullable(),
  problem: z.string().nullable(),
  /** The newest record a signed checkpoint vouches for: anything after it could still be cut unseen. */
  sealedThroughSeq: z.number().int().nullable(),
});
export type AuditVerification = z.infer<typeof AuditVerification>;
