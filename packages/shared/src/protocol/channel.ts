import { z } from 'zod';
import { EndReason, ShortcutCommand, SessionLevel } from '../domain';
import { DisplayId } from '../ids';
import { DisplayInfo, ErrorCodeSchema } from './agent';
import { ProtocolVersion } from './common';

/**
 * Messages on the WebRTC data channel between console and agent. Keys travel
 * as physical key codes plus modifiers, never as text, so punctuation and
 * keyboard layouts survive the trip.
 */

const base = { v: ProtocolVersion };

export const Modifiers = z.strictObject({
  shift: z.boolean(),
  ctrl: z.boolean(),
  alt: z.boolean(),
  meta: z.boolean(),
});
export type Modifiers = z.infer<typeof Modifiers>;

/** `KeyboardEvent.code` values: letters, digits, names like `BracketLeft`. */
export const KeyCode = z.string().regex(/^[A-Za-z][A-Za-z0-9]{0,31}$/, 'not a KeyboardEvent.code');

export const InputKey = z.strictObject({
  ...base,
  type: z.literal('input.key'),
  code: KeyCode,
  down: z.boolean(),
  modifiers: Modifiers,
});
export type InputKey = z.infer<typeof InputKey>;

export const PointerButton = z.enum(['left', 'middle', 'right']);
export type PointerButton = z.infer<typeof PointerButton>;
/** Where 0..1 across the selected display's picture, so the console never needs the room's pixel size. */
const Fraction = z.number().min(0).max(1);

/** Mouse and touch on the picture (pointer control, a tenant setting): a move, a button, or the wheel. */
export const InputPointer = z.discriminatedUnion('action', [
  z.strictObject({ ...base, type: z.literal('input.pointer'), action: z.literal('move'), x: Fraction, y: Fraction }),
  z.strictObject({ ...base, type: z.literal('input.pointer'), action: z.enum(['down', 'up']), x: Fraction, y: Fraction, button: PointerButton }),
  z.strictObject({ ...base, type: z.literal('input.pointer'), action: z.literal('wheel'), x: Fraction, y: Fraction, deltaY: z.number().int().min(-20).max(20) }),
]);
export type InputPointer = z.infer<typeof InputPointer>;

export const SelectDisplay = z.strictObject({ ...base, type: z.literal('control.selectDisplay'), displayId: DisplayId });
export const Shortcut = z.strictObject({ ...base, type: z.literal('control.shortcut'), command: ShortcutCommand });
export const SetRestartAfterSession = z.strictObject({
  ...base,
  type: z.literal('control.restartAfterSession'),
  enabled: z.boolean(),
});
export const RestartDevice = z.strictObject({ ...base, type: z.literal('control.restartDevice') });
export const RequestKeyframe = z.strictObject({ ...base, type: z.literal('control.requestKeyframe') });
export const EndSession = z.strictObject({ ...base, type: z.literal('control.end') });
export const Ping = z.strictObject({ ...base, type: z.literal('ping'), t: z.number() });

export const ConsoleToAgent = z.discriminatedUnion('type', [
  InputKey,
  InputPointer,
  SelectDisplay,
  Shortcut,
  SetRestartAfterSession,
  RestartDevice,
  RequestKeyframe,
  EndSession,
  Ping,
]);
export type ConsoleToAgent = z.infer<typeof ConsoleToAgent>;

/** Commands that send input to the operating system: refused in view sessions (rule 7). */
export const inputMessageTypes: ReadonlySet<ConsoleToAgent['type']> = new Set(['input.key', 'input.pointer', 'control.shortcut']);

export const SessionInfo = z.strictObject({
  ...base,
  type: z.literal('session.info'),
  level: SessionLevel,
  displays: z.array(DisplayInfo).max(16),
  selectedDisplay: DisplayId,
  restartAfterSession: z.boolean(),
  /** Whether mouse and touch on the picture reach the room: a modify session, pointer control on for the tenant, a room that can. */
  pointer: z.boolean(),
});
export type SessionInfo = z.infer<typeof SessionInfo>;
export const Pong = z.strictObject({ ...base, type: z.literal('pong'), t: z.number() });
/** The room's last word before it closes the media, so the technician sees why even without the server. */
export const SessionEnding = z.strictObject({
  ...base,
  type: z.literal('session.ending'),
  reason: EndReason,
  /** Whether the room restarts once the session is over (restart after session, rule 11): the technician should know. */
  restarting: z.boolean(),
});
export const ChannelError = z.strictObject({ ...base, type: z.literal('error'), code: ErrorCodeSchema, message: z.string().max(1024) });

export const AgentToConsole = z.discriminatedUnion('type', [SessionInfo, Pong, ChannelError, SessionEnding]);
export type AgentToConsole = z.infer<typeof AgentToConsole>;
