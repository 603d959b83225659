import {
  type AlertRule,
  AlertRuleInput,
  IncidentRules,
  type CaughtMail,
  type Delivery,
  type Webhook,
  WebhookInput,
  AssignmentInput,
  AuditExportQuery,
  AuditQuery,
  type AuditPage,
  type AuditVerification,
  type EnrollmentCode,
  type ErrorCode,
  type DashboardSummary,
  type Incident,
  type IncidentDetail,
  IncidentNote,
  IncidentQuery,
  type Location,
  type LogBundle,
  LocationId,
  LocationInput,
  LocationPatch,
  type Me,
  type Principals,
  type RemoteAccessSettings,
  RoleId,
  RoleInput,
  type RoleView,
  type Room,
  RoomId,
  RoomInput,
  RoomPatch,
  type RoomHistory,
  type RoomState,
  SessionId,
  type SessionStarted,
  type SessionStateChanged,
  SetPointerControl,
  SetRemoteAccess,
  SignalData,
  type Unversioned,
} from '@roomlink/shared';
import { z } from 'zod';

/**
 * Everything the renderer may ask of the console host, and every event the
 * host may send it. Both transports (Electron IPC, the browser host's
 * WebSocket) carry exactly this, and the host validates every argument with
 * `consoleApiArgs` before it runs a call. The renderer never sees a token.
 */
export interface ConsoleApi {
  status(): Promise<ConsoleStatus>;
  /** Interactive sign-in: the host asks the renderer to open the provider's page (event `signIn.open`). */
  signIn(): Promise<ConsoleStatus>;
  /** Ends a sign-in still waiting for its page (the window was closed); the waiting `signIn` fails at once. */
  cancelSignIn(): Promise<void>;
  signOut(): Promise<ConsoleStatus>;
  /** Rooms from the local cache, at once, even with the server down. */
  cachedRooms(): Promise<RoomsSnapshot>;
  /** Rooms from the server; the cache is replaced with them. */
  syncRooms(): Promise<RoomsSnapshot>;
  locations(): Promise<Location[]>;
  remoteAccess(): Promise<RemoteAccessSettings>;
  setRemoteAccess(change: SetRemoteAccess): Promise<RemoteAccessSettings>;
  /** Mouse and touch in modify sessions started from now on. */
  setPointerControl(change: SetPointerControl): Promise<RemoteAccessSettings>;
  roles(): Promise<RoleView[]>;
  createRole(role: RoleInput): Promise<RoleView>;
  updateRole(roleId: RoleId, role: RoleInput): Promise<RoleView>;
  deleteRole(roleId: RoleId): Promise<RoleView>;
  /** Creates a region, a building in a region or a floor in a building (inside the caller's rooms.manage scope). */
  createLocation(location: LocationInput): Promise<Location>;
  /** Renames or moves a location; the rooms beneath it move with it. */
  updateLocation(locationId: LocationId, patch: LocationPatch): Promise<Location>;
  /** Deletes a location that holds nothing and that no role names. */
  deleteLocation(locationId: LocationId): Promise<Location>;
  /** Creates a room (inside the caller's rooms.manage scope) and returns it. */
  createRoom(room: RoomInput): Promise<Room>;
  /** Renames, moves, retags or relicenses a room. */
  updateRoom(roomId: RoomId, patch: RoomPatch): Promise<Room>;
  /** Takes the room out of the directory; refused during a session. */
  retireRoom(roomId: RoomId): Promise<void>;
  /** Forgets the room's device until it is enrolled again with a new code. */
  revokeDevice(roomId: RoomId): Promise<Room>;
  /** Users who have signed in and groups seen in tokens: what a role assignment can name. */
  principals(): Promise<Principals>;
  /** When incidents open, resolve and reopen in this tenant (the documented defaults until changed). */
  incidentRules(): Promise<IncidentRules>;
  saveIncidentRules(rules: IncidentRules): Promise<IncidentRules>;
  alertRules(): Promise<AlertRule[]>;
  /** Creates (id null) or replaces an alert rule. */
  saveAlertRule(id: string | null, rule: AlertRuleInput): Promise<AlertRule>;
  deleteAlertRule(id: string): Promise<void>;
  webhooks(): Promise<Webhook[]>;
  /** Adds a webhook; its signing secret comes back this once. */
  addWebhook(webhook: WebhookInput): Promise<{ webhook: Webhook; secret: string }>;
  deleteWebhook(id: string): Promise<void>;
  deliveries(): Promise<Delivery[]>;
  /** Mail the development catcher received (npm start); an error elsewhere. */
  caughtMail(): Promise<CaughtMail[]>;
  incidents(query: IncidentQuery): Promise<Incident[]>;
  /** The home dashboard's numbers over what the user may see. */
  dashboard(): Promise<DashboardSummary>;
  incident(incidentId: string): Promise<IncidentDetail>;
  /** One step of an incident's life, by the signed-in user (incidents.manage). */
  changeIncident(incidentId: string, change: IncidentChange): Promise<Incident>;
  exportIncidents(query: IncidentQuery): Promise<AuditExport>;
  /** The room's history from `from` until now, summarised to `step` seconds (see `RoomHistory`). */
  roomHistory(roomId: RoomId, from: string, step: number): Promise<RoomHistory>;
  /** Asks the room for its logs; it uploads them to the server within 2 minutes. */
  collectLogs(roomId: RoomId): Promise<LogBundle>;
  logBundles(roomId: RoomId): Promise<LogBundle[]>;
  /** One bundle's bytes (gzip), base64, with its file name. */
  downloadLogs(roomId: RoomId, bundleId: string): Promise<LogDownload>;
  /** Restarts the room's PC now; refused during a call or a session. */
  restartRoom(roomId: RoomId): Promise<void>;
  /** A one-time code that enrolls an agent into the room, valid 24 h. */
  enrollmentCode(roomId: RoomId): Promise<EnrollmentCode>;
  /** Replaces who holds a built-in role (the Pro Manager role: Global Administrators only). */
  assignBuiltInRole(roleId: RoleId, assignments: AssignmentInput[]): Promise<RoleView>;
  /** One audit page; from the cache (marked) when the server is down. */
  auditPage(query: AuditQuery): Promise<CachedAuditPage>;
  exportAudit(query: AuditExportQuery): Promise<AuditExport>;
  verifyAudit(): Promise<AuditVerification>;
  startSession(roomId: RoomId): Promise<SessionStarted>;
  /** Relays one WebRTC signaling message to the room through the server. */
  sendSignal(sessionId: SessionId, data: SignalData): Promise<void>;
  endSession(sessionId: SessionId): Promise<void>;
}

export type ConsoleMethod = keyof ConsoleApi;

const IncidentIdArg = z.string().min(1).max(64);
/** What a person does to an incident from the console. */
export const IncidentChange = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('acknowledge') }),
  z.strictObject({ kind: z.literal('assignToMe') }),
  z.strictObject({ kind: z.literal('note'), text: IncidentNote.shape.text }),
  z.strictObject({ kind: z.literal('resolve') }),
]);
export type IncidentChange = z.infer<typeof IncidentChange>;

/** Argument schemas, one tuple per call: what the host accepts and nothing else. */
export const consoleApiArgs = {
  status: z.tuple([]),
  signIn: z.tuple([]),
  cancelSignIn: z.tuple([]),
  signOut: z.tuple([]),
  cachedRooms: z.tuple([]),
  syncRooms: z.tuple([]),
  locations: z.tuple([]),
  remoteAccess: z.tuple([]),
  setRemoteAccess: z.tuple([SetRemoteAccess]),
  setPointerControl: z.tuple([SetPointerControl]),
  roles: z.tuple([]),
  createRole: z.tuple([RoleInput]),
  updateRole: z.tuple([RoleId, RoleInput]),
  deleteRole: z.tuple([RoleId]),
  assignBuiltInRole: z.tuple([RoleId, z.array(AssignmentInput).max(100)]),
  createLocation: z.tuple([LocationInput]),
  updateLocation: z.tuple([LocationId, LocationPatch]),
  deleteLocation: z.tuple([LocationId]),
  createRoom: z.tuple([RoomInput]),
  updateRoom: z.tuple([RoomId, RoomPatch]),
  retireRoom: z.tuple([RoomId]),
  revokeDevice: z.tuple([RoomId]),
  principals: z.tuple([]),
  roomHistory: z.tuple([RoomId, z.iso.datetime(), z.number().int().min(1).max(86_400)]),
  incidentRules: z.tuple([]),
  saveIncidentRules: z.tuple([IncidentRules]),
  alertRules: z.tuple([]),
  saveAlertRule: z.tuple([z.string().min(1).max(64).nullable(), AlertRuleInput]),
  deleteAlertRule: z.tuple([z.string().min(1).max(64)]),
  webhooks: z.tuple([]),
  addWebhook: z.tuple([WebhookInput]),
  deleteWebhook: z.tuple([z.string().min(1).max(64)]),
  deliveries: z.tuple([]),
  caughtMail: z.tuple([]),
  incidents: z.tuple([IncidentQuery]),
  dashboard: z.tuple([]),
  incident: z.tuple([IncidentIdArg]),
  changeIncident: z.tuple([IncidentIdArg, IncidentChange]),
  exportIncidents: z.tuple([IncidentQuery]),
  collectLogs: z.tuple([RoomId]),
  logBundles: z.tuple([RoomId]),
  downloadLogs: z.tuple([RoomId, z.string().min(1).max(64)]),
  enrollmentCode: z.tuple([RoomId]),
  restartRoom: z.tuple([RoomId]),
  auditPage: z.tuple([AuditQuery]),
  exportAudit: z.tuple([AuditExportQuery]),
  verifyAudit: z.tuple([]),
  startSession: z.tuple([RoomId]),
  sendSignal: z.tuple([SessionId, SignalData]),
  endSession: z.tuple([SessionId]),
} satisfies { [M in ConsoleMethod]: z.ZodType<Parameters<ConsoleApi[M]>, z.input<z.ZodType>> };

export const consoleMethods = Object.keys(consoleApiArgs) as ConsoleMethod[];

export function isConsoleMethod(value: unknown): value is ConsoleMethod {
  return typeof value === 'string' && Object.hasOwn(consoleApiArgs, value);
}

export const ConnectionState = z.enum(['connected', 'connecting', 'offline']);
export type ConnectionState = z.infer<typeof ConnectionState>;

export interface ConsoleStatus {
  /** The signed-in user and what they may do; null when signed out. */
  account: Me | null;
  /** The console hub: session events need it. */
  connection: ConnectionState;
  serverUrl: string;
  /** Where Help points. */
  helpUrl: string;
  /** How this console names itself in the audit. */
  deviceName: string;
}

export interface RoomsSnapshot {
  rooms: Room[];
  /** When the rooms were last fetched from the server; null when never. */
  syncedAt: string | null;
}

export interface CachedAuditPage extends AuditPage {
  /** Set when the server could not be reached and this page came from the cache. */
  cachedAt: string | null;
}

export interface LogDownload {
  filename: string;
  base64: string;
}

export interface AuditExport {
  filename: string;
  csv: string;
}

/** Events from the host, by name. */
export interface ConsoleEvents {
  status: ConsoleStatus;
  'signIn.open': { url: string };
  'session.state': Unversioned<SessionStateChanged>;
  'session.signal': { sessionId: SessionId; data: SignalData };
  /** Rooms' live states changed (pushed by the server, what it committed together). */
  'room.states': RoomState[];
  /** An incident opened or changed (pushed by the server). */
  incident: Incident;
}
export type ConsoleEventName = keyof ConsoleEvents;
export const consoleEventNames = ['status', 'signIn.open', 'session.state', 'session.signal', 'room.states', 'incident'] as const satisfies readonly ConsoleEventName[];

/** The error every call rejects with: a code the UI can look up and a message a person can read. */
export interface ConsoleFailure {
  code: ErrorCode;
  message: string;
  details?: string[];
}
