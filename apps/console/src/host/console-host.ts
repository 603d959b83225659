import { join } from 'node:path';
import {
  AlertRule,
  IncidentRules,
  Ok,
  type AlertRuleInput,
  CaughtMail,
  Delivery,
  Webhook,
  WebhookCreated,
  type WebhookInput,
  type AssignmentInput,
  type AuditExportQuery,
  type AuditQuery,
  AuditPage,
  AuditVerification,
  EnrollmentCode,
  Incident,
  DashboardSummary,
  IncidentDetail,
  type IncidentQuery,
  Location,
  LogBundle,
  type LocationId,
  type LocationPatch,
  Me,
  Principals,
  RemoteAccessSettings,
  type RoleId,
  type RoleInput,
  RoleView,
  Room,
  RoomHistory,
  type RoomId,
  type RoomInput,
  type RoomPatch,
  type LocationInput,
  type ServerToConsole,
  type SessionId,
  SessionStarted,
  type SetPointerControl,
  type SetRemoteAccess,
  type SignalData,
} from '@roomlink/shared';
import { z } from 'zod';
import type { AuditExport, CachedAuditPage, ConsoleApi, ConsoleStatus, IncidentChange, LogDownload, RoomsSnapshot } from '../api/console-api';
import { ConsoleError, ConsoleEventBus } from '../api/rpc';
import { Auth, type AuthConfig } from './auth';
import { ConsoleCache } from './cache';
import { HubConnection } from './hub';
import { ServerClient } from './server-client';
import type { SecretBox } from './token-cache';

export interface ConsoleHostOptions {
  serverUrl: string;
  auth: AuthConfig;
  /** Token cache and SQLite cache live here. */
  dataDir: string;
  box: SecretBox;
  deviceName: string;
  helpUrl: string;
  /** How the sign-in page is opened; by default the renderer is asked to open it (`signIn.open`). */
  openBrowser?: (url: string) => Promise<void>;
  log(message: string, error?: unknown): void;
  now?: () => Date;
}

const RoomList = z.array(Room);
const LocationList = z.array(Location);
const RoleList = z.array(RoleView);

function searchOf(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  return params.toString();
}

/**
 * The console's logic, behind `ConsoleApi`: sign-in, the server client, the
 * hub, the cache. Electron's main process and the browser host both run
 * exactly this; they only differ in how calls and events travel.
 */
export class ConsoleHost implements ConsoleApi {
  readonly events = new ConsoleEventBus();
  private readonly auth: Auth;
  private readonly cache: ConsoleCache;
  private readonly client: ServerClient;
  private readonly hub: HubConnection;
  private readonly now: () => Date;
  /** The msal account id of the signed-in user: the cache's key. */
  private accountKey: string | null = null;

  private constructor(private readonly options: ConsoleHostOptions) {
    this.now = options.now ?? (() => new Date());
    this.auth = new Auth({
      config: options.auth,
      dataDir: options.dataDir,
      box: options.box,
      log: options.log,
      openBrowser:
        options.openBrowser ??
        (async (url) => {
          this.events.emit('signIn.open', { url });
        }),
    });
    this.cache = new ConsoleCache(join(options.dataDir, 'cache.sqlite'));
    const accessToken = () => this.auth.accessToken();
    this.client = new ServerClient({ serverUrl: options.serverUrl, accessToken, deviceName: options.deviceName });
    this.hub = new HubConnection({
      serverUrl: options.serverUrl,
      accessToken,
      deviceName: options.deviceName,
      log: options.log,
      onMessage: (message) => this.onHubMessage(message),
      onState: () => this.publishStatus(),
    });
  }

  /** Opens the cache and, when a sign-in is cached, resumes it: the hub connects and the profile refreshes in the background. */
  static async open(options: ConsoleHostOptions): Promise<ConsoleHost> {
    const host = new ConsoleHost(options);
    const account = await host.auth.account();
    if (account) {
      host.accountKey = account.homeAccountId;
      host.hub.start();
      void host.refreshProfile().catch((error: unknown) => options.log('profile refresh failed', error));
    }
    return host;
  }

  async close(): Promise<void> {
    this.hub.stop();
    this.cache.close();
  }

  async status(): Promise<ConsoleStatus> {
    return this.snapshot();
  }

  async signIn(): Promise<ConsoleStatus> {
    const account = await this.auth.signIn();
    this.accountKey = account.homeAccountId;
    await this.refreshProfile();
    this.hub.start();
    return this.publishStatus();
  }

  cancelSignIn(): Promise<void> {
    return this.auth.cancelSignIn('The sign-in window was closed.');
  }

  async signOut(): Promise<ConsoleStatus> {
    this.hub.stop();
    await this.auth.signOut();
    if (this.accountKey) this.cache.forget(this.accountKey);
    this.accountKey = null;
    return this.publishStatus();
  }

  async cachedRooms(): Promise<RoomsSnapshot> {
    return this.cache.rooms(this.account());
  }

  async syncRooms(): Promise<RoomsSnapshot> {
    const account = this.account();
    const syncedAt = this.now().toISOString();
    const rooms = this.cache.replaceRooms(account, await this.client.json('GET', '/api/rooms', RoomList), syncedAt);
    return { rooms, syncedAt };
  }

  locations(): Promise<Location[]> {
    return this.cachedFetch('locations', LocationList, () => this.client.json('GET', '/api/locations', LocationList)).then((cached) => cached.value);
  }

  remoteAccess(): Promise<RemoteAccessSettings> {
    return this.client.json('GET', '/api/settings/remote-access', RemoteAccessSettings);
  }

  setRemoteAccess(change: SetRemoteAccess): Promise<RemoteAccessSettings> {
    return this.client.json('PUT', '/api/settings/remote-access', RemoteAccessSettings, change);
  }

  setPointerControl(change: SetPointerControl): Promise<RemoteAccessSettings> {
    return this.client.json('PUT', '/api/settings/pointer-control', RemoteAccessSettings, change);
  }

  roles(): Promise<RoleView[]> {
    return this.client.json('GET', '/api/roles', RoleList);
  }

  createRole(role: RoleInput): Promise<RoleView> {
    return this.client.json('POST', '/api/roles', RoleView, role);
  }

  updateRole(roleId: RoleId, role: RoleInput): Promise<RoleView> {
    return this.client.json('PUT', `/api/roles/${encodeURIComponent(roleId)}`, RoleView, role);
  }

  createLocation(location: LocationInput): Promise<Location> {
    return this.client.json('POST', '/api/locations', Location, location);
  }

  updateLocation(locationId: LocationId, patch: LocationPatch): Promise<Location> {
    return this.client.json('PATCH', `/api/locations/${encodeURIComponent(locationId)}`, Location, patch);
  }

  deleteLocation(locationId: LocationId): Promise<Location> {
    return this.client.json('DELETE', `/api/locations/${encodeURIComponent(locationId)}`, Location);
  }

  createRoom(room: RoomInput): Promise<Room> {
    return this.client.json('POST', '/api/rooms', Room, room);
  }

  updateRoom(roomId: RoomId, patch: RoomPatch): Promise<Room> {
    return this.client.json('PATCH', `/api/rooms/${encodeURIComponent(roomId)}`, Room, patch);
  }

  async retireRoom(roomId: RoomId): Promise<void> {
    await this.client.json('DELETE', `/api/rooms/${encodeURIComponent(roomId)}`, Ok);
  }

  revokeDevice(roomId: RoomId): Promise<Room> {
    return this.client.json('DELETE', `/api/rooms/${encodeURIComponent(roomId)}/enrollment`, Room);
  }

  principals(): Promise<Principals> {
    return this.client.json('GET', '/api/principals', Principals);
  }

  incidents(query: IncidentQuery): Promise<Incident[]> {
    return this.client.json('GET', `/api/incidents?${searchOf(query)}`, z.array(Incident));
  }

  incidentRules(): Promise<IncidentRules> {
    return this.client.json('GET', '/api/settings/incident-rules', IncidentRules);
  }

  saveIncidentRules(rules: IncidentRules): Promise<IncidentRules> {
    return this.client.json('PUT', '/api/settings/incident-rules', IncidentRules, rules);
  }

  alertRules(): Promise<AlertRule[]> {
    return this.client.json('GET', '/api/alerts/rules', z.array(AlertRule));
  }

  saveAlertRule(id: string | null, rule: AlertRuleInput): Promise<AlertRule> {
    return id ? this.client.json('PUT', `/api/alerts/rules/${encodeURIComponent(id)}`, AlertRule, rule) : this.client.json('POST', '/api/alerts/rules', AlertRule, rule);
  }

  async deleteAlertRule(id: string): Promise<void> {
    await this.client.json('DELETE', `/api/alerts/rules/${encodeURIComponent(id)}`, Ok);
  }

  webhooks(): Promise<Webhook[]> {
    return this.client.json('GET', '/api/alerts/webhooks', z.array(Webhook));
  }

  addWebhook(webhook: WebhookInput): Promise<{ webhook: Webhook; secret: string }> {
    return this.client.json('POST', '/api/alerts/webhooks', WebhookCreated, webhook);
  }

  async deleteWebhook(id: string): Promise<void> {
    await this.client.json('DELETE', `/api/alerts/webhooks/${encodeURIComponent(id)}`, Ok);
  }

  deliveries(): Promise<Delivery[]> {
    return this.client.json('GET', '/api/alerts/deliveries', z.array(Delivery));
  }

  caughtMail(): Promise<CaughtMail[]> {
    return this.client.json('GET', '/api/dev/mail', z.array(CaughtMail));
  }

  dashboard(): Promise<DashboardSummary> {
    return this.client.json('GET', '/api/dashboard', DashboardSummary);
  }

  incident(incidentId: string): Promise<IncidentDetail> {
    return this.client.json('GET', `/api/incidents/${encodeURIComponent(incidentId)}`, IncidentDetail);
  }

  changeIncident(incidentId: string, change: IncidentChange): Promise<Incident> {
    const path = `/api/incidents/${encodeURIComponent(incidentId)}`;
    switch (change.kind) {
      case 'acknowledge':
        return this.client.json('POST', `${path}/acknowledge`, Incident);
      case 'assignToMe': {
        const me = this.account();
        const profile = this.cache.read(me, 'me', Me)?.value;
        if (!profile) throw new ConsoleError('sign_in_required');
        return this.client.json('POST', `${path}/assign`, Incident, { userId: profile.userId, name: profile.name });
      }
      case 'note':
        return this.client.json('POST', `${path}/notes`, Incident, { text: change.text });
      case 'resolve':
        return this.client.json('POST', `${path}/resolve`, Incident);
    }
  }

  async exportIncidents(query: IncidentQuery): Promise<AuditExport> {
    const csv = await this.client.text(`/api/incidents.csv?${searchOf(query)}`);
    return { filename: `roomlink-incidents-${this.now().toISOString().slice(0, 10)}.csv`, csv };
  }

  roomHistory(roomId: RoomId, from: string, step: number): Promise<RoomHistory> {
    return this.client.json('GET', `/api/rooms/${encodeURIComponent(roomId)}/history?from=${encodeURIComponent(from)}&step=${step}`, RoomHistory);
  }

  collectLogs(roomId: RoomId): Promise<LogBundle> {
    return this.client.json('POST', `/api/rooms/${encodeURIComponent(roomId)}/logs`, LogBundle);
  }

  logBundles(roomId: RoomId): Promise<LogBundle[]> {
    return this.client.json('GET', `/api/rooms/${encodeURIComponent(roomId)}/logs`, z.array(LogBundle));
  }

  async downloadLogs(roomId: RoomId, bundleId: string): Promise<LogDownload> {
    const { bytes, filename } = await this.client.file(`/api/rooms/${encodeURIComponent(roomId)}/logs/${encodeURIComponent(bundleId)}`);
    return { filename: filename ?? `${bundleId}.json.gz`, base64: bytes.toString('base64') };
  }

  async restartRoom(roomId: RoomId): Promise<void> {
    await this.client.json('POST', `/api/rooms/${encodeURIComponent(roomId)}/restart`, Ok);
  }

  enrollmentCode(roomId: RoomId): Promise<EnrollmentCode> {
    return this.client.json('POST', `/api/rooms/${encodeURIComponent(roomId)}/enrollment-code`, EnrollmentCode);
  }

  assignBuiltInRole(roleId: RoleId, assignments: AssignmentInput[]): Promise<RoleView> {
    return this.client.json('PUT', `/api/roles/${encodeURIComponent(roleId)}/assignments`, RoleView, { assignments });
  }

  deleteRole(roleId: RoleId): Promise<RoleView> {
    return this.client.json('DELETE', `/api/roles/${encodeURIComponent(roleId)}`, RoleView);
  }

  async auditPage(query: AuditQuery): Promise<CachedAuditPage> {
    const search = searchOf(query);
    const cached = await this.cachedFetch(`audit?${search}`, AuditPage, () => this.client.json('GET', `/api/audit?${search}`, AuditPage));
    return { ...cached.value, cachedAt: cached.fresh ? null : cached.savedAt };
  }

  async exportAudit(query: AuditExportQuery): Promise<AuditExport> {
    const csv = await this.client.text(`/api/audit.csv?${searchOf(query)}`);
    return { filename: `roomlink-audit-${this.now().toISOString().slice(0, 10)}.csv`, csv };
  }

  verifyAudit(): Promise<AuditVerification> {
    return this.client.json('GET', '/api/audit/verify', AuditVerification);
  }

  async startSession(roomId: RoomId): Promise<SessionStarted> {
    // Signaling travels over the hub: without it the room could never be reached.
    if (this.hub.state !== 'connected') throw new ConsoleError('server_unreachable', 'Not connected to the Roomlink service, so a session cannot start. Reconnecting…');
    return this.client.json('POST', '/api/sessions', SessionStarted, { roomId });
  }

  async sendSignal(sessionId: SessionId, data: SignalData): Promise<void> {
    if (!this.hub.send({ type: 'session.signal', sessionId, data })) throw new ConsoleError('server_unreachable', 'The connection to the Roomlink service was lost.');
  }

  async endSession(sessionId: SessionId): Promise<void> {
    if (this.hub.send({ type: 'session.end', sessionId })) return;
    await this.client.json('POST', `/api/sessions/${encodeURIComponent(sessionId)}/end`, Ok);
  }

  private account(): string {
    if (!this.accountKey) throw new ConsoleError('sign_in_required');
    return this.accountKey;
  }

  private async refreshProfile(): Promise<void> {
    const me = await this.client.json('GET', '/api/me', Me);
    this.cache.write(this.account(), 'me', me, this.now().toISOString());
    this.publishStatus();
  }

  /** Fetches and caches; when the server cannot be reached, answers from the cache if it can. */
  private async cachedFetch<S extends z.ZodType>(key: string, schema: S, fetch: () => Promise<z.infer<S>>): Promise<{ value: z.infer<S>; savedAt: string; fresh: boolean }> {
    const account = this.account();
    try {
      const value = await fetch();
      const savedAt = this.now().toISOString();
      this.cache.write(account, key, value, savedAt);
      return { value, savedAt, fresh: true };
    } catch (error) {
      const cached = error instanceof ConsoleError && error.code === 'server_unreachable' ? this.cache.read(account, key, schema) : null;
      if (!cached) throw error;
      return { ...cached, fresh: false };
    }
  }

  private onHubMessage(message: ServerToConsole): void {
    if (message.type === 'session.state') {
      const { v: _v, ...event } = message;
      this.events.emit('session.state', event);
    } else if (message.type === 'session.signal') {
      this.events.emit('session.signal', { sessionId: message.sessionId, data: message.data });
    } else if (message.type === 'room.states') {
      this.events.emit('room.states', message.states);
    } else if (message.type === 'incident.changed') {
      this.events.emit('incident', message.incident);
    } else {
      this.options.log(`hub error: ${message.code} ${message.message}`);
    }
  }

  private snapshot(): ConsoleStatus {
    const me = this.accountKey ? this.cache.read(this.accountKey, 'me', Me) : null;
    return {
      account: me?.value ?? null,
      connection: this.accountKey ? this.hub.state : 'offline',
      serverUrl: this.options.serverUrl,
      helpUrl: this.options.helpUrl,
      deviceName: this.options.deviceName,
    };
  }

  private publishStatus(): ConsoleStatus {
    const status = this.snapshot();
    this.events.emit('status', status);
    return status;
  }
}
