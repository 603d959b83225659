/**
 * Every error the product can show. The UI looks up `errorMessages[code]`;
 * nothing matches on message text.
 */
export const errorMessages = {
  remote_access_disabled: 'Remote access is turned off for this organization. An administrator can turn it on in Settings.',
  not_permitted: 'You do not have permission to do this.',
  room_not_found: 'The room does not exist or is not visible to you.',
  room_offline: 'The room is offline: its agent is not connected.',
  room_not_monitored: 'The room is not monitored for remote access (it needs a Pro license).',
  room_in_call: 'The room is in a call. Try again when the call has ended.',
  room_busy: 'Another technician is already in a session with this room.',
  session_already_open: 'You already have a session with this room open. Use that window, or end it first.',
  grant_invalid: 'The room refused the session: the grant is not valid.',
  grant_expired: 'The room refused the session: the grant has expired.',
  grant_replayed: 'The room refused the session: the grant was already used.',
  wrong_tenant: 'That belongs to another organization.',
  wrong_room: 'The grant names another room.',
  audio_refused: 'The session asked for audio, which Roomlink never sends.',
  input_not_permitted: 'This is a view session: keyboard input and shortcuts are not allowed.',
  display_not_found: 'That display is not connected to the room.',
  session_not_found: 'The session does not exist or has already ended.',
  setup_timeout: 'The room did not answer in time.',
  unauthenticated: 'You are not signed in, or your sign-in has expired.',
  tenant_not_provisioned: 'Your organization is not set up on this Roomlink server. Ask its administrator to add it.',
  enrollment_code_invalid: 'The enrollment code is not valid, has expired or was already used.',
  agent_unknown: 'This device is not enrolled.',
  rate_limited: 'Too many attempts. Wait a moment and try again.',
  payload_too_large: 'The request is too large.',
  conflict: 'The change conflicts with the current state. Refresh and try again.',
  protocol_version: 'The other side speaks an incompatible protocol version.',
  bad_request: 'The request is not valid.',
  internal: 'Something went wrong on our side. The error has been logged.',
  server_unreachable: 'The Roomlink service cannot be reached. Showing what was last synced.',
  sign_in_failed: 'Sign-in did not complete. Try again.',
  sign_in_required: 'Sign in to continue.',
} as const;

export type ErrorCode = keyof typeof errorMessages;
export const errorCodes = Object.keys(errorMessages) as ErrorCode[];

/** The error shape every boundary returns: a code the UI can show, a message a person can read. */
export interface RoomlinkError {
  code: ErrorCode;
  message: string;
  /** Which field or path was wrong, for `bad_request`. */
  details?: string[];
}

export function roomlinkError(code: ErrorCode, details?: string[]): RoomlinkError {
  return details && details.length > 0 ? { code, message: errorMessages[code], details } : { code, message: errorMessages[code] };
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(errorMessages, value);
}
