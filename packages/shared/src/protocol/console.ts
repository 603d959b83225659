import { z } from 'zod';
import { EndReason, SessionState } from '../domain';
import { SessionId } from '../ids';
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

export const ServerToConsole = z.discriminatedUnion('type', [SessionStateChanged, ConsoleSessionSignal, ConsoleError]);
export type ServerToConsole = z.infer<typeof ServerToConsole>;
