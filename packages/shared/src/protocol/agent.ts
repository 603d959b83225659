import { z } from 'zod';
import { DisplayRole, EndReason, HealthSignals, Platform, SessionLevel } from '../domain';
import { errorCodes, type ErrorCode } from '../errors';
import { DisplayId, RoomId, SessionId, TenantId } from '../ids';
import { IceServer, IceTransportPolicy, ProtocolVersion, SessionSignalBody } from './common';

/** Messages between a room agent and the server's agent hub. */

export const ErrorCodeSchema = z.enum(errorCodes as [ErrorCode, ...ErrorCode[]]);

export const DisplayInfo = z.strictObject({
  id: DisplayId,
  role: DisplayRole.nullable(),
  label: z.string().min(1).max(64),
  width: z.number().int().min(1).max(16384),
  height: z.number().int().min(1).max(16384),
  x: z.number().int().min(-65536).max(65536),
  y: z.number().int().min(-65536).max(65536),
});
export type DisplayInfo = z.infer<typeof DisplayInfo>;

const Counts = { accepted: z.number().int().min(0), dropped: z.number().int().min(0) };
/** What a session sent to the room: keys and shortcuts, and pointer events (counted apart, present once pointer control existed). */
export const InputCounts = z.strictObject({ ...Counts, pointer: z.strictObject(Counts).optional() });
export type InputCounts = z.infer<typeof InputCounts>;

const base = { v: ProtocolVersion };
const Base64Url = z.string().min(1).max(4096).regex(/^[A-Za-z0-9_-]+$/, 'not base64url');

export const AgentHello = z.strictObject({
  ...base,
  type: z.literal('agent.hello'),
  roomId: RoomId,
  agentVersion: z.string().min(1).max(32),
  platform: Platform,
});
export const AgentProof = z.strictObject({ ...base, type: z.literal('agent.proof'), signature: Base64Url });
export const AgentHealth = z.strictObject({
  ...base,
  type: z.literal('agent.health'),
  signals: HealthSignals,
  displays: z.array(DisplayInfo).max(16),
});
export const AgentCallState = z.strictObject({ ...base, type: z.literal('agent.callState'), inCall: z.boolean() });
export const SessionAccept = z.strictObject({ ...base, type: z.literal('session.accept'), sessionId: SessionId });
export const SessionReject = z.strictObject({
  ...base,
  type: z.literal('session.reject'),
  sessionId: SessionId,
  code: ErrorCodeSchema,
});
export const SessionActive = z.strictObject({ ...base, type: z.literal('session.active'), sessionId: SessionId });
export const AgentSessionEnd = z.strictObject({
  ...base,
  type: z.literal('session.end'),
  sessionId: SessionId,
  reason: EndReason,
  input: InputCounts,
  restarting: z.boolean(),
  /** When the session ended by the room's clock: what the record says when the server learns of the end only later. */
  endedAt: z.iso.datetime().optional(),
});
export const SessionSignal = z.strictObject({ ...base, type: z.literal('session.signal'), ...SessionSignalBody });
export type SessionSignal = z.infer<typeof SessionSignal>;

export const AgentToServer = z.discriminatedUnion('type', [
  AgentHello,
  AgentProof,
  AgentHealth,
  AgentCallState,
  SessionAccept,
  SessionReject,
  SessionActive,
  AgentSessionEnd,
  SessionSignal,
]);
export type AgentToServer = z.infer<typeof AgentToServer>;

export const AgentChallenge = z.strictObject({ ...base, type: z.literal('agent.challenge'), nonce: Base64Url });
/**
 * Heartbeats, in beats of the welcome's `heartbeatMs`. The agent pings every
 * beat: each ping is its sign of life to the server, which drops an agent
 * silent for `agentSilentBeats`. The server answers a ping (pong) only when
 * it has not answered for `serverAnswerBeats`, so every second one: at
 * 10,000 rooms, answering each was a third of the monitoring server's busy
 * time. The agent takes a server it has heard nothing from, pong or
 * message, for `serverSilentBeats` as gone, and reconnects.
 */
export const heartbeatRules = { agentSilentBeats: 3, serverAnswerBeats: 1.5, serverSilentBeats: 3 } as const;

export const AgentWelcome = z.strictObject({
  ...base,
  type: z.literal('agent.welcome'),
  roomId: RoomId,
  tenantId: TenantId,
  heartbeatMs: z.number().int().min(100).max(300_000),
  /** The live session the server holds for this room, so a reconnecting agent ends any other. */
  sessionId: SessionId.nullable(),
});
export const SessionOffer = z.strictObject({
  ...base,
  type: z.literal('session.offer'),
  sessionId: SessionId,
  grant: z.string().min(1).max(4096),
  level: SessionLevel,
  iceServers: z.array(IceServer).max(8),
  iceTransportPolicy: IceTransportPolicy,
});
export type SessionOffer = z.infer<typeof SessionOffer>;
export const ServerSessionEnd = z.strictObject({
  ...base,
  type: z.literal('session.end'),
  sessionId: SessionId,
  reason: EndReason,
});
/** The technician's access dropped from modify to view mid-session: the agent stops taking keys (it can only ever lower). */
/**
 * What a live session may still do after its technician's access dropped
 * (rule 14): its level, and whether it may drive the pointer. Never more
 * than before: raising either takes a new session and a new grant.
 */
export const SessionLower = z.strictObject({
  ...base,
  type: z.literal('session.lower'),
  sessionId: SessionId,
  level: SessionLevel,
  pointer: z.boolean(),
});
/** The server has written the end record of this session: the agent may forget its report. */
export const SessionAck = z.strictObject({ ...base, type: z.literal('session.ack'), sessionId: SessionId });
export const DeviceAction = z.strictObject({
  ...base,
  type: z.literal('device.action'),
  action: z.enum(['restart', 'collectLogs']),
  /** For collectLogs: where the bundle goes (POST /api/agent/logs/:bundleId) and the one-time token that lets it in. */
  upload: z.strictObject({ bundleId: z.string().min(1).max(64), token: z.string().min(32).max(128) }).optional(),
});
export const ProtocolError = z.strictObject({
  ...base,
  type: z.literal('error'),
  code: ErrorCodeSchema,
  message: z.string().max(1024),
});

export const ServerToAgent = z.discriminatedUnion('type', [
  AgentChallenge,
  AgentWelcome,
  SessionOffer,
  ServerSessionEnd,
  SessionLower,
  SessionAck,
  SessionSignal,
  DeviceAction,
  ProtocolError,
]);
export type ServerToAgent = z.infer<typeof ServerToAgent>;

/** The bytes an agent signs to prove it holds its enrolled key: bound to this purpose, nonce and room. */
export function agentProofPayload(nonce: string, roomId: string): string {
  return `roomlink-agent-proof:v1:${nonce}:${roomId}`;
}

/** HTTP enrollment: the agent trades a one-time code and its public key for its identity. */
export const EnrollRequest = z.strictObject({
  code: z.string().min(6).max(64),
  publicKey: Base64Url,
  platform: Platform,
  agentVersion: z.string().min(1).max(32),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;
export const EnrollResponse = z.strictObject({
  roomId: RoomId,
  tenantId: TenantId,
  roomName: z.string(),
  grantPublicKey: Base64Url,
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;
