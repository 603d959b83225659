import { z } from 'zod';

export const RemoteAccessLevel = z.enum(['none', 'view', 'modify']);
export type RemoteAccessLevel = z.infer<typeof RemoteAccessLevel>;
export const SessionLevel = z.enum(['view', 'modify']);
export type SessionLevel = z.infer<typeof SessionLevel>;

export const SessionState = z.enum(['requested', 'offered', 'connecting', 'active', 'ending', 'ended']);
export type SessionState = z.infer<typeof SessionState>;

export const EndReason = z.enum([
  'user_ended',
  'agent_ended',
  'call_started',
  'control_plane_lost',
  'grant_rejected',
  'setup_timeout',
  'device_restart',
  'access_revoked',
  'error',
]);
export type EndReason = z.infer<typeof EndReason>;

export const endReasonMessages: Record<EndReason, string> = {
  user_ended: 'The session was ended by the technician.',
  agent_ended: 'The room ended the session.',
  call_started: 'A call started in the room, so the session ended.',
  control_plane_lost: 'The connection to the service was lost.',
  grant_rejected: 'The room refused the session grant.',
  setup_timeout: 'The room did not connect in time.',
  device_restart: 'The device is restarting.',
  access_revoked: 'Your access to this room was removed, so the session ended.',
  error: 'The session ended because of an error.',
};

export const HealthSignal = z.enum(['app', 'audio', 'camera', 'display', 'network', 'signIn']);
export type HealthSignal = z.infer<typeof HealthSignal>;
export const healthSignalLabels: Record<HealthSignal, string> = {
  app: 'App',
  audio: 'Audio',
  camera: 'Camera',
  display: 'Display',
  network: 'Network',
  signIn: 'Sign-in',
};

export const SignalStatus = z.enum(['ok', 'warning', 'error']);
export type SignalStatus = z.infer<typeof SignalStatus>;
export const HealthSignals = z.strictObject({
  app: SignalStatus,
  audio: SignalStatus,
  camera: SignalStatus,
  display: SignalStatus,
  network: SignalStatus,
  signIn: SignalStatus,
});
export type HealthSignals = z.infer<typeof HealthSignals>;

/** What a room event is about: one health signal, its presence, its call state, or its overall health. */
export const RoomSubject = z.enum([...HealthSignal.options, 'presence', 'call', 'health']);
export type RoomSubject = z.infer<typeof RoomSubject>;

export const RoomHealth = z.enum(['healthy', 'nonUrgent', 'critical', 'offline']);
export type RoomHealth = z.infer<typeof RoomHealth>;
export const roomHealthLabels: Record<RoomHealth, string> = {
  healthy: 'Healthy',
  nonUrgent: 'Non-urgent',
  critical: 'Critical',
  offline: 'Offline',
};

/** Signals whose failure makes a room unusable for meetings, so they count as critical. */
export const criticalSignals: ReadonlySet<HealthSignal> = new Set(['app', 'signIn', 'network', 'display']);

export function roomHealth(online: boolean, signals: HealthSignals | null): RoomHealth {
  if (!online || signals === null) return 'offline';
  let health: RoomHealth = 'healthy';
  for (const signal of HealthSignal.options) {
    const status = signals[signal];
    if (status === 'error' && criticalSignals.has(signal)) return 'critical';
    if (status !== 'ok') health = 'nonUrgent';
  }
  return health;
}

/**
 * How people read names in lists: "Room 2" before "Room 10", case and accents
 * aside, in the user's locale. One collator for every comparison
 * (localeCompare with options builds a new one per call, most of the cost of
 * sorting 10,000 rooms), shared by the console host, which keeps its cached
 * rooms in this order, and the list, whose sort then finds them in order.
 */
export const nameOrder = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

export const Platform = z.enum(['windows', 'x11', 'synthetic']);
export type Platform = z.infer<typeof Platform>;
export const License = z.enum(['pro', 'basic']);
export type License = z.infer<typeof License>;

/**
 * Shortcut commands a modify session may send. Secure attention (Ctrl+Alt+Del)
 * cannot be injected from user mode on Windows, so Task Manager stands in for it.
 */
export const ShortcutCommand = z.enum(['taskManager', 'altTab', 'altF4', 'win', 'winD', 'escape', 'enter', 'f5']);
export type ShortcutCommand = z.infer<typeof ShortcutCommand>;
export const shortcutLabels: Record<ShortcutCommand, string> = {
  taskManager: 'Task Manager (Ctrl+Shift+Esc)',
  altTab: 'Alt+Tab',
  altF4: 'Alt+F4',
  win: 'Windows key',
  winD: 'Show desktop (Win+D)',
  escape: 'Esc',
  enter: 'Enter',
  f5: 'F5',
};

/** Display roles in the order a technician expects them. */
export const DisplayRole = z.enum(['console', 'frontOfRoom1', 'frontOfRoom2']);
export type DisplayRole = z.infer<typeof DisplayRole>;
export const displayRoleLabels: Record<DisplayRole, string> = {
  console: 'Console',
  frontOfRoom1: 'Front of Room 1',
  frontOfRoom2: 'Front of Room 2',
};
