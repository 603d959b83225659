import { z } from 'zod';
import { EndReason, HealthSignals, RoomHealth, SessionState } from '../domain';
import { RoomId, SessionId } from '../ids';
import { Incident } from '../api';
import { ErrorCodeSchema } from './agent';
import { ProtocolVersion, SessionSignalBody } from './common';

/** Messages between the console and the server's console hub. */

const base = { v: ProtocolVersion };

export const ConsoleSessionSignal = z.strictObject({ ...base, type: z.literal('session.signal'), ...SessionSignalBody });
export const ConsoleSessionEnd = z.strictObject({ ...base, type: z.literal('session.end'), sessionId: SessionId });

export const ConsoleToServer = z.discriminatedUnion('type', [ConsoleSessionSignal, ConsoleSessionEnd]);
export type ConsoleToServer = z.infer<typeof ConsoleToServer>;

export const SessionStateChanged = z.strictObject({
  ...base,
  type: z.literal('session.state'),
  sessionId: SessionId,
  state: SessionState,
  reason: EndReason.optional(),
  code: ErrorCodeSchema.optional(),
  /** On `ended`: whether the room said it restarts now (restart after session). */
  restarting: z.boolean().optional(),
});
export type SessionStateChanged = z.infer<typeof SessionStateChanged>;
export const ConsoleError = z.strictObject({
  ...base,
  type: z.literal('error'),
  code: ErrorCodeSchema,
  message: z.string().max(1024),
});

/** A room's live state (presence, call, health), as pushed. */
export const RoomState = z.strictObject({
  roomId: RoomId,
  online: z.boolean(),
  inCall: z.boolean(),
  signals: HealthSignals.nullable(),
  health: RoomHealth,
  lastSeenAt: z.iso.datetime().nullable(),
});
export type RoomState = z.infer<typeof RoomState>;
/** Rooms in one push: a message stays far below MAX_MESSAGE_BYTES (a state is about 300 bytes). */
export const ROOM_STATES_PER_MESSAGE = 100;
/**
 * Rooms' live states changed: what the server committed together (its
 * health reports share a commit), pushed once to every console, each
 * hearing only the rooms it may see.
 */
export const RoomStatesChanged = z.strictObject({ ...base, type: z.literal('room.states'), states: z.array(RoomState).min(1).max(ROOM_STATES_PER_MESSAGE) });
export type RoomStatesChanged = z.infer<typeof RoomStatesChanged>;

/** An incident opened or changed: pushed to every console that may see its room. */
export const IncidentChanged = z.strictObject({ ...base, type: z.literal('incident.changed'), incident: Incident });
export type IncidentChanged = z.infer<typeof IncidentChanged>;

export const ServerToConsole = z.discriminatedUnion('type', [SessionStateChanged, ConsoleSessionSignal, RoomStatesChanged, IncidentChanged, ConsoleError]);
export type ServerToConsole = z.infer<typeof ServerToConsole>;
