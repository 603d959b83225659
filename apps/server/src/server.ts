import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { join } from 'node:path';
import proxyAddr from '@fastify/proxy-addr';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyRequest } from 'fastify';
import pino, { type Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { can, remoteAccessLevel, type Policy } from '@roomlink/rbac';
import { MAX_MESSAGE_BYTES, roomlinkError } from '@roomlink/shared';
import { CHECKPOINT_FILE, CheckpointFile, loadCheckpointKey } from './audit/checkpoints';
import { Alerts } from './alerts/alerts';
import type { MailCatcher } from './alerts/mail-catcher';
import { realSenders, type SmtpConfig } from './alerts/senders';
import { AuditFolder } from './audit/fold';
import { AuditLog } from './audit/log';
import { RedisBus } from './cluster/bus';
import { Switchboard } from './cluster/switchboard';
import { AuthError, tokenVerifier, type AuthConfig, type Caller } from './auth/tokens';
import { ApiFailure, statusFor } from './errors';
import { AddressGate, type AddressLimits } from './hub/address-gate';
import { AgentHub } from './hub/agents';
import { HandshakeSlots } from './hub/handshake-slots';
import { ConsoleHub } from './hub/consoles';
import { openApi, registerRoutes } from './http/route';
import { directoryRoutes } from './http/routes/directory';
import { sessionRoutes } from './http/routes/sessions';
import { logRoutes } from './http/routes/logs';
import { alertRoutes } from './http/routes/alerts';
import { incidentRoutes } from './http/routes/incidents';
import { monitoringRoutes } from './http/routes/monitoring';
import { roomRef, type Services } from './http/services';
import { Incidents } from './monitoring/incidents';
import { RoomMonitor } from './monitoring/room-monitor';
import { loadServerKeys } from './keys';
import { SessionBroker } from './sessions/broker';
import { SessionHistory } from './sessions/history';
import { checkIceConfig, noIce, type IceConfig } from './sessions/ice';
import { RateLimiter } from './sessions/rate-limit';
import { openStore, type StoreConfig } from './store/engine';
import { Directory, DirectoryError, type RoomRecord } from './store/directory';
import { LogBundles } from './store/log-bundles';

export const SERVER_VERSION = '0.1.0';
export const DEFAULT_SERVER_PORT = 47_800;

export interface ServerConfig {
  dataDir: string;
  /** Where the data lives: SQLite in `dataDir` unless a PostgreSQL database is given (several nodes share one). */
  store?: StoreConfig;
  /**
   * The tenants (Entra `tid`s) this server serves: provisioned at start. A
   * token from any other tenant is refused; a token never creates one.
   */
  tenants: readonly string[];
  host: string;
  port: number;
  auth: AuthConfig;
  /**
   * Redis, shared by the nodes of a cluster (with a PostgreSQL store): which
   * node holds which agent and console, and the messages between them.
   * Without it the node runs alone.
   */
  redisUrl?: string;
  /** In a cluster, how long a node that stops beating still counts as alive (default 3 s). */
  nodeAliveMs?: number;
  /** STUN and TURN for sessions; none by default (host candidates: a LAN, loopback). */
  ice?: IceConfig;
  /**
   * Load balancers in front (addresses or CIDR ranges): from them, a client's
   * address is taken from `X-Forwarded-For`, so per-address caps and the
   * audit see the client, not the balancer. From anyone else the header is
   * ignored, so a client cannot choose its own address.
   */
  trustedProxies?: string[];
  heartbeatMs: number;
  setupTimeoutMs: number;
  graceMs: number;
  logLevel: string;
  /** Enrollment attempts per client address: a burst, then a steady rate. */
  enrollmentRate: { burst: number; perSecond: number };
  /** Session starts per user: a burst, then a steady rate. */
  sessionStartRate: { burst: number; perSecond: number };
  /** Where the audit checkpoint file lives: a directory of its own, outside the database (default DATA_DIR/audit-checkpoints). */
  auditCheckpointDir?: string;
  /** Agent sockets per client address (a site's rooms may share one NAT address). */
  agentLimits?: AddressLimits;
  /** Agent connections proving their key at once; the ones past it wait in line (see `HandshakeSlots`). */
  agentHandshakes?: number;
  /** Agent connections that may wait in line for a handshake, past which new ones are refused (503) before their upgrade. */
  agentHandshakesWaiting?: number;
  /** How long an agent connection may wait in line (then closed 1013, to try again later) and then take to prove its key (then closed 4408). */
  agentHandshakeTimes?: { waitMs: number; proveMs: number };
  /** Console sockets per client address. */
  consoleLimits?: AddressLimits;
  /** After a restart, how long sessions left open wait for their rooms' end reports before their counts are recorded as unknown. */
  orphanReportMs?: number;
  /** Identical refusals and failed proofs within this window become one record and a count. */
  auditFoldMs?: number;
  /** How often the audit chain heads are sealed with a signed checkpoint (sessions are sealed as they end). */
  checkpointEveryMs?: number;
  /** How often incident rules run over the rooms that fail or have open incidents (their thresholds are minutes). */
  incidentEveryMs?: number;
  /** How often the alert outbox is looked at for due deliveries. */
  alertEveryMs?: number;
  /** Where alert mail goes; without it, email deliveries fail (and are retried, then given up). */
  smtp?: SmtpConfig | null;
  /** The development mail catcher, whose mail the console shows (npm start). */
  mailCatcher?: MailCatcher | null;
  /** The clock; tests move it to check expiry and retention. */
  now: () => Date;
}

export const DEFAULT_CHECKPOINT_EVERY_MS = 5_000;
export const DEFAULT_INCIDENT_EVERY_MS = 5_000;
export const DEFAULT_ALERT_EVERY_MS = 500;
export const DEFAULT_AUDIT_FOLD_MS = 60_000;
/** Long enough for a room that lost the server to notice, end its session and reconnect with backoff. */
export const DEFAULT_ORPHAN_REPORT_MS = 120_000;
export const DEFAULT_NODE_ALIVE_MS = 3_000;
export const DEFAULT_AGENT_HANDSHAKES = 200;
/** A lost node's share of a 30,000-room cluster coming back to one survivor, within the 20,000 descriptors a process has here. */
export const DEFAULT_AGENT_HANDSHAKES_WAITING = 5_000;
export const defaultAgentLimits: AddressLimits = { socketsPerAddress: 10_000, connectsPerAddress: { burst: 200, perSecond: 20 } };
export const defaultConsoleLimits: AddressLimits = { socketsPerAddress: 100, connectsPerAddress: { burst: 50, perSecond: 5 } };

export const defaultTimings = { heartbeatMs: 10_000, setupTimeoutMs: 30_000, graceMs: 15_000, enrollmentRate: { burst: 5, perSecond: 0.2 }, sessionStartRate: { burst: 10, perSecond: 1 } };

export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  consoles: ConsoleHub;
  log: Logger;
  close(): Promise<void>;
}

const bearer = (request: Pick<IncomingMessage, 'headers'>) => /^Bearer ([\w.~+/=-]+)$/.exec(request.headers.authorization ?? '')?.[1];

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  checkIceConfig(config.ice ?? noIce);
  const log = pino({ level: config.logLevel, base: { service: 'roomlink-server' } });
  const store = await openStore(config.store ?? { engine: 'sqlite', file: join(config.dataDir, 'server.db') });
  const keys = loadServerKeys(config.dataDir);
  const now = config.now;
  const directory = new Directory(store, now);
  for (const tenantId of config.tenants) await directory.ensureTenant(tenantId);
  const checkpoints = new CheckpointFile(join(config.auditCheckpointDir ?? join(config.dataDir, 'audit-checkpoints'), CHECKPOINT_FILE));
  const audit = await AuditLog.open(store, loadCheckpointKey(config.dataDir), checkpoints, now, (error) => log.error({ err: error }, 'audit records not chained yet (the next pass retries)'));
  const folder = new AuditFolder(audit, config.auditFoldMs ?? DEFAULT_AUDIT_FOLD_MS, now, (error) => log.error({ err: error }, 'folded audit record not written'));
  const monitor = new RoomMonitor(store, directory, now, (error) => log.error({ err: error }, 'health reports not committed'));
  const handshakes = new HandshakeSlots(config.agentHandshakes ?? DEFAULT_AGENT_HANDSHAKES, config.agentHandshakesWaiting ?? DEFAULT_AGENT_HANDSHAKES_WAITING);
  const agents = new AgentHub(directory, monitor, folder, { heartbeatMs: config.heartbeatMs, handshakeMs: config.agentHandshakeTimes?.proveMs ?? 10_000, waitMs: config.agentHandshakeTimes?.waitMs ?? 60_000 }, handshakes, log);
  const consoles = new ConsoleHub(log);
  const aliveMs = config.nodeAliveMs ?? DEFAULT_NODE_ALIVE_MS;
  const bus = config.redisUrl ? new RedisBus({ url: config.redisUrl, aliveMs, onError: (error) => log.error({ err: error }, 'cluster bus') }) : null;
  const links = new Switchboard(agents, consoles, monitor, bus, log);
  const broker = new SessionBroker(
    store,
    directory,
    audit,
    folder,
    keys,
    links,
    {
      ice: config.ice ?? noIce,
      setupTimeoutMs: config.setupTimeoutMs,
      graceMs: config.graceMs,
      endAckMs: 3_000,
      orphanReportMs: config.orphanReportMs ?? DEFAULT_ORPHAN_REPORT_MS,
      adoptEveryMs: Math.max(100, Math.floor(aliveMs / 3)),
      startRate: config.sessionStartRate,
      onError: (error) => log.error({ err: error }, 'session step failed'),
    },
    now,
  );
  agents.broker = broker;
  agents.switchboard = links;
  consoles.broker = broker;
  consoles.switchboard = links;
  links.broker = broker;
  await links.start();
  await broker.adoptOrphans();
  const services: Services = {
    store,
    directory,
    audit,
    broker,
    sessions: new SessionHistory(store),
    agents,
    links,
    keys,
    enrollLimiter: new RateLimiter(config.enrollmentRate.burst, config.enrollmentRate.perSecond, () => now().getTime()),
    logBundles: new LogBundles(store, now),
    monitor,
    incidents: new Incidents(store, directory, monitor, audit, now),
    now,
  };
  /** Who may hear about a room: anyone who may read it, or reach it remotely. */
  const mayHearOf = (policy: Policy, room: RoomRecord) => {
    const ref = roomRef(room);
    return (caller: Caller) => can(policy, caller.principal, 'rooms.read', ref) || remoteAccessLevel(policy, caller.principal, ref).level !== 'none';
  };
  // Live state: each commit's changes reach each console that may see the rooms, in one push.
  monitor.onChange((changes) => {
    (async () => {
      const policies = new Map<string, Policy>();
      for (const { room } of changes) if (!policies.has(room.tenantId)) policies.set(room.tenantId, await directory.policy(room.tenantId));
      consoles.pushRoomStates(changes.map(({ room, state }) => ({ tenantId: room.tenantId, state, may: mayHearOf(policies.get(room.tenantId)!, room) })));
    })().catch((error: unknown) => log.error({ err: error }, 'pushing room states failed'));
  });
  let ownUrl = '';
  const alerts = new Alerts(store, directory, audit, realSenders(config.smtp ?? null), now, () => (ownUrl ? [new URL(ownUrl).origin, new URL(ownUrl.replace('127.0.0.1', 'localhost')).origin] : []));
  services.incidents.onWrite((trx, tenantId, incident, entry) => alerts.enqueue(trx, tenantId, incident, entry));
  const alertTimer = setInterval(() => {
    alerts.dispatch().catch((error: unknown) => log.error({ err: error }, 'alert dispatch failed'));
  }, config.alertEveryMs ?? DEFAULT_ALERT_EVERY_MS);
  alertTimer.unref();
  // Incidents are read with rooms.read alone.
  services.incidents.onChange((tenantId, incident) => {
    (async () => {
      const room = await directory.room(tenantId, incident.roomId);
      if (!room) return;
      const policy = await directory.policy(tenantId);
      consoles.broadcast(tenantId, { type: 'incident.changed', incident }, (caller) => can(policy, caller.principal, 'rooms.read', roomRef(room)));
    })().catch((error: unknown) => log.error({ err: error }, 'pushing an incident failed'));
  });
  // A pass that outlasts the interval is not started again under itself.
  let evaluating = false;
  const incidentTimer = setInterval(() => {
    if (evaluating) return;
    evaluating = true;
    services.incidents
      .evaluate()
      .catch((error: unknown) => log.error({ err: error }, 'incident rules failed'))
      .finally(() => (evaluating = false));
  }, config.incidentEveryMs ?? DEFAULT_INCIDENT_EVERY_MS);
  incidentTimer.unref();
  // Agents have three heartbeats to come back after a restart (or their node's loss): a room found unheld now and again three heartbeats later is offline in the history too.
  const settle = () => void monitor.settle((roomIds) => links.heldElsewhere(roomIds)).catch((error: unknown) => log.error({ err: error }, 'settling presence failed'));
  settle();
  const settleTimer = links.clustered ? setInterval(settle, 3 * config.heartbeatMs) : setTimeout(settle, 3 * config.heartbeatMs);
  settleTimer.unref();
  const verifyToken = tokenVerifier(config.auth, now);

  async function authenticate(request: Pick<FastifyRequest, 'headers'>): Promise<Caller> {
    const token = bearer(request);
    if (!token) throw new ApiFailure('unauthenticated');
    try {
      const caller = await verifyToken(token);
      if (!(await directory.tenantExists(caller.principal.tenantId))) throw new ApiFailure('tenant_not_provisioned');
      await broker.principalSeen(caller.principal);
      await directory.recordPrincipals(caller.principal.tenantId, { id: caller.principal.userId, name: caller.name, username: caller.username }, caller.principal.groups);
      return caller;
    } catch (error) {
      if (error instanceof AuthError) throw new ApiFailure('unauthenticated', [error.message]);
      throw error;
    }
  }

  const trusted = proxyAddr.compile(config.trustedProxies ?? []);
  const app = Fastify({ loggerInstance: log as FastifyBaseLogger, bodyLimit: MAX_MESSAGE_BYTES, return503OnClosing: true, trustProxy: trusted });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let failure: ApiFailure;
    if (error instanceof ApiFailure) failure = error;
    else if (error instanceof DirectoryError) failure = new ApiFailure(error.code, [error.message]);
    else if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') failure = new ApiFailure('payload_too_large');
    else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) failure = new ApiFailure('bad_request', [error.message]);
    else {
      request.log.error({ err: error }, 'unhandled error');
      failure = new ApiFailure('internal');
    }
    void reply.status(statusFor(failure.code)).send({ error: roomlinkError(failure.code, failure.details) });
  });
  app.setNotFoundHandler((_request, reply) => void reply.status(404).send({ error: roomlinkError('bad_request', ['no such route']) }));

  // Log bundles arrive as gzip bytes, not JSON.
  app.addContentTypeParser('application/gzip', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  const routes = [...directoryRoutes(services), ...sessionRoutes(services), ...logRoutes(services), ...monitoringRoutes(services), ...incidentRoutes(services), ...alertRoutes({ ...services, alerts }, config.mailCatcher ?? null)];
  registerRoutes(app, routes, authenticate);
  const spec = openApi(routes, SERVER_VERSION);
  app.get('/openapi.json', () => spec);
  app.get('/healthz', () => ({ ok: true, version: SERVER_VERSION, agents: agents.size }));

  // Agents' pings are answered by the agent hub, every other one (see `heartbeatRules`).
  const agentSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false, autoPong: false });
  const consoleSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const refuseUpgrade = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  const agentGate = new AddressGate(config.agentLimits ?? defaultAgentLimits, () => now().getTime());
  const consoleGate = new AddressGate(config.consoleLimits ?? defaultConsoleLimits, () => now().getTime());
  app.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node hands an upgrade's socket over without its error listener: a peer that resets the connection after a refusal must not take the process down.
    socket.on('error', (error) => log.debug({ err: error }, 'upgrade socket error'));
    const path = new URL(request.url ?? '/', 'http://x').pathname;
    const gate = path === '/agent' ? agentGate : path === '/console' ? consoleGate : null;
    if (!gate) return refuseUpgrade(socket, '404 Not Found');
    const address = proxyAddr(request, trusted);
    if (path === '/agent' && handshakes.full) return refuseUpgrade(socket, '503 Service Unavailable');
    if (!gate.admit(address)) return refuseUpgrade(socket, '429 Too Many Requests');
    // The raw socket closes however the upgrade ends, refused or served.
    socket.once('close', () => gate.release(address));
    if (path === '/agent') {
      agentSockets.handleUpgrade(request, socket, head, (ws) => agents.accept(ws, address));
      return;
    }
    // The console hub authenticates before the upgrade: no socket for a bad token.
    authenticate(request).then(
      (caller) => consoleSockets.handleUpgrade(request, socket, head, (ws) => consoles.accept(ws, caller)),
      (error: unknown) => refuseUpgrade(socket, error instanceof ApiFailure ? '401 Unauthorized' : '500 Internal Server Error'),
    );
  });

  const purge = async () => {
    try {
      const purged = await audit.purge();
      if (purged.records > 0) log.info(purged, 'audit retention purge');
      const bundles = await services.logBundles.purge();
      if (bundles > 0) log.info({ bundles }, 'log bundle retention purge');
      const events = await monitor.purge();
      if (events > 0) log.info({ events }, 'room history retention purge');
    } catch (error) {
      log.error({ err: error }, 'audit retention purge failed');
    }
  };
  await purge();
  const purgeTimer = setInterval(() => void purge(), 24 * 3600 * 1000);
  purgeTimer.unref();
  const seal = async () => {
    try {
      await audit.checkpointAll();
    } catch (error) {
      log.error({ err: error }, 'sealing the audit chains failed');
    }
  };
  await seal();
  const sealTimer = setInterval(() => void seal(), config.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS);
  sealTimer.unref();

  await app.listen({ host: config.host, port: config.port });
  const port = (app.server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  ownUrl = url;
  log.info({ url }, 'roomlink server listening');

  return {
    url,
    port,
    services,
    consoles,
    log,
    async close() {
      clearInterval(purgeTimer);
      clearInterval(settleTimer);
      clearInterval(incidentTimer);
      clearInterval(alertTimer);
      clearInterval(sealTimer);
      await broker.shutdown();
      await agents.close();
      consoles.close();
      agentSockets.close();
      consoleSockets.close();
      // Fastify waits for in-flight requests and their writes.
      await app.close();
      await monitor.flush();
      await folder.flush();
      await audit.close();
      await seal();
      await links.close();
      await store.close();
    },
  };
}
