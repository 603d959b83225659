import { createPublicKey, type KeyObject } from 'node:crypto';
import type { EndReason, ErrorCode, HealthSignals, SessionId, SessionOffer } from '@roomlink/shared';
import { ServerConnection, type ServerMessage, type Welcome } from './connection';
import { nameDisplays, type DisplayMapping, type NamedDisplay } from './displays';
import type { PumpOptions } from './picture/picture-pump';
import type { EndReports } from './end-reports';
import { checkGrant, type GrantLedger } from './grants';
import type { AgentIdentity } from './identity';
import type { Logger, RecentLines } from './log';
import { uploadLogBundle } from './log-upload';
import type { MediaOptions } from './media';
import type { Platform, RoomStatus } from './platform';
import { AgentSession } from './session';

export const AGENT_VERSION = '0.1.0';

export interface AgentOptions {
  displayMapping: DisplayMapping;
  /** How long a session outlives a lost server before it ends (rule 10). */
  graceMs: number;
  /** Health is sent on every change and at least this often. */
  healthIntervalMs: number;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  media: Omit<MediaOptions, 'iceServers' | 'iceTransportPolicy'>;
  pump: PumpOptions;
  ledger: GrantLedger;
  /** End reports the server has not acknowledged yet. */
  reports: EndReports;
  log: Logger;
  /** The newest log lines, for log bundles. */
  recentLog?: RecentLines;
  now?: () => number;
}

/** Counters a test or an operator can read to see what the agent refused. */
export interface AgentCounters {
  grantsRefused: number;
  offersRefused: number;
}

/**
 * The room agent: one connection to the server, the room's state reported
 * up, and at most one session at a time. Offers pass rule 6 (the grant)
 * before anything else happens, then rule 5 again here (not while in a call).
 */
export class RoomAgent {
  readonly connection: ServerConnection;
  readonly counters: AgentCounters = { grantsRefused: 0, offersRefused: 0 };
  private session: AgentSession | null = null;
  private offers: Promise<void> = Promise.resolve();
  private readonly serverKey: KeyObject;
  private status: RoomStatus;
  private displays: NamedDisplay[] = [];
  private grace: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | null = null;
  private lastReported: { signals: string; inCall: boolean } | null = null;
  private readonly endedListeners = new Set<(session: AgentSession) => void>();
  private stopped: Promise<void> | null = null;

  constructor(
    readonly identity: AgentIdentity,
    readonly platform: Platform,
    private readonly options: AgentOptions,
  ) {
    this.serverKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: identity.grantPublicKey }, format: 'jwk' });
    this.status = platform.roomState.current();
    this.connection = new ServerConnection(
      {
        serverUrl: identity.serverUrl,
        roomId: identity.roomId,
        deviceKey: identity.deviceKey,
        platform: platform.name,
        agentVersion: AGENT_VERSION,
        reconnectBaseMs: options.reconnectBaseMs,
        reconnectCapMs: options.reconnectCapMs,
        log: options.log,
      },
      { welcome: (w) => this.welcomed(w), message: (m) => this.received(m), down: () => this.serverLost() },
    );
  }

  get currentSession(): AgentSession | null {
    return this.session;
  }

  /** Resolves with each session once it has fully ended (tests and the demo watch this). */
  onSessionEnded(listener: (session: AgentSession) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  async start(): Promise<void> {
    this.displays = nameDisplays(await this.platform.displays.list(), this.options.displayMapping);
    this.unsubscribe = this.platform.roomState.onChange((status) => this.roomChanged(status));
    this.healthTimer = setInterval(() => void this.reportHealth(true), this.options.healthIntervalMs);
    this.connection.start();
    // Without its display the agent can serve nothing: the room goes offline rather than look healthy.
    void this.platform.lost?.then((error) => {
      this.options.log.error({ err: error.message }, 'the platform is gone; stopping');
      return this.stop('error');
    });
  }

  /** Ends any session (the ring comes down), disconnects and closes the platform; a second call waits for the first. */
  stop(reason: EndReason = 'agent_ended'): Promise<void> {
    this.stopped ??= this.shutDown(reason);
    return this.stopped;
  }

  private async shutDown(reason: EndReason): Promise<void> {
    clearInterval(this.healthTimer);
    clearTimeout(this.grace);
    this.unsubscribe?.();
    await this.session?.end(reason);
    await this.connection.stop();
    await this.platform.close();
  }

  private welcomed(welcome: Welcome): void {
    if (welcome.tenantId !== this.identity.tenantId) {
      this.options.log.error({ tenantId: welcome.tenantId }, 'the server named another tenant for this room');
      return;
    }
    clearTimeout(this.grace);
    // A session the server no longer holds (it restarted, or ended it while we were away) ends here too.
    if (this.session && welcome.sessionId !== this.session.id) void this.session.end('control_plane_lost');
    // Ends the server has not acknowledged: it may have lost them, or restarted before writing them.
    for (const report of this.options.reports.pending) if (report.sessionId !== this.session?.id) this.connection.send(report);
    this.lastReported = null;
    void this.reportHealth(true);
  }

  private serverLost(): void {
    if (!this.session) return;
    clearTimeout(this.grace);
    this.grace = setTimeout(() => void this.session?.end('control_plane_lost'), this.options.graceMs);
  }

  private received(message: ServerMessage): void {
    switch (message.type) {
      case 'session.offer':
        this.offers = this.offers.then(() => this.offer(message)).catch((error: unknown) => this.options.log.error({ err: (error as Error).message }, 'offer failed'));
        return;
      case 'session.signal':
        if (this.session?.id === message.sessionId) this.session.signal(message.data);
        return;
      case 'session.end':
        if (this.session?.id === message.sessionId) void this.session.end(message.reason);
        return;
      case 'session.ack':
        this.options.reports.acknowledged(message.sessionId);
        return;
      case 'session.lower':
        if (this.session?.id === message.sessionId) this.session.lower(message);
        return;
      case 'device.action':
        if (message.action === 'collectLogs') {
          void this.collectLogs(message.upload);
          return;
        }
        if (this.session) void this.session.end('device_restart');
        else void this.platform.device.restart();
        return;
      case 'error':
        return;
    }
  }

  /** Writes the platform's bundle and, when the server asked with an upload token, sends it. */
  private async collectLogs(upload: { bundleId: string; token: string } | undefined): Promise<void> {
    try {
      const platformFile = await this.platform.device.collectLogs();
      if (!upload) {
        this.options.log.info({ path: platformFile }, 'collected logs');
        return;
      }
      const agent = { version: AGENT_VERSION, roomId: this.identity.roomId, roomName: this.identity.roomName, platform: this.platform.name, counters: this.counters, status: this.status, displays: this.displays, inSession: this.session !== null };
      const sent = await uploadLogBundle({ serverUrl: this.identity.serverUrl, ...upload, platformFile, agent, recentLog: this.options.recentLog?.lines() ?? [] });
      this.options.log.info({ bundleId: upload.bundleId, bytes: sent.size }, 'uploaded logs');
    } catch (error) {
      this.options.log.error({ err: (error as Error).message }, 'collecting logs failed');
    }
  }

  private reject(sessionId: SessionId, code: ErrorCode): void {
    this.counters.offersRefused += 1;
    this.options.log.warn({ sessionId, code }, 'refused a session offer');
    this.connection.send({ type: 'session.reject', sessionId, code });
  }

  private async offer(offer: SessionOffer): Promise<void> {
    const grant = await checkGrant(offer.grant, {
      serverKey: this.serverKey,
      roomId: this.identity.roomId,
      tenantId: this.identity.tenantId,
      sessionId: offer.sessionId,
      level: offer.level,
      now: this.options.now ?? Date.now,
      ledger: this.options.ledger,
    });
    if (!grant.ok) {
      this.counters.grantsRefused += 1;
      return this.reject(offer.sessionId, grant.code);
    }
    if (this.session) return this.reject(offer.sessionId, 'room_busy');
    if (this.status.inCall) return this.reject(offer.sessionId, 'room_in_call');
    this.displays = nameDisplays(await this.platform.displays.list(), this.options.displayMapping);
    const session = new AgentSession(
      { sessionId: offer.sessionId, level: offer.level, pointer: grant.claims.ptr, userId: grant.claims.sub, media: { ...this.options.media, iceServers: offer.iceServers, iceTransportPolicy: offer.iceTransportPolicy }, pump: this.options.pump },
      {
        platform: this.platform,
        displays: this.displays,
        send: (message) => {
          // The room's account of the end is kept until the server has written it.
          if (message.type === 'session.end') this.options.reports.add(message);
          return this.connection.send(message);
        },
        inCall: () => this.status.inCall,
        log: this.options.log,
        ended: (s) => this.sessionEnded(s),
      },
    );
    this.session = session;
    this.options.log.info({ sessionId: offer.sessionId, level: offer.level, userId: grant.claims.sub }, 'session starting');
    await session.start();
  }

  private sessionEnded(session: AgentSession): void {
    if (this.session === session) this.session = null;
    clearTimeout(this.grace);
    if (session.summary?.restarting) void this.platform.device.restart().catch((error: unknown) => this.options.log.error({ err: (error as Error).message }, 'restart failed'));
    for (const listener of this.endedListeners) listener(session);
  }

  private roomChanged(status: RoomStatus): void {
    this.status = status;
    if (status.inCall && this.session) void this.session.end('call_started');
    void this.reportHealth(false);
  }

  private async reportHealth(force: boolean): Promise<void> {
    const signals: HealthSignals = this.status.signals;
    const key = JSON.stringify(signals);
    const last = this.lastReported;
    if (!last || last.inCall !== this.status.inCall) this.connection.send({ type: 'agent.callState', inCall: this.status.inCall });
    if (force || !last || last.signals !== key) {
      if (force) this.displays = nameDisplays(await this.platform.displays.list(), this.options.displayMapping);
      this.connection.send({ type: 'agent.health', signals, displays: this.displays.map((d) => d.info) });
    }
    if (this.connection.online) this.lastReported = { signals: key, inCall: this.status.inCall };
  }
}
