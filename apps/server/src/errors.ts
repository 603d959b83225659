import type { ErrorCode } from '@roomlink/shared';

/** A refusal or failure the API returns as `{ error: { code, message } }` with the code's HTTP status. */
export class ApiFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly details?: string[],
  ) {
    super(code);
  }
}

const statuses: Partial<Record<ErrorCode, number>> = {
  unauthenticated: 401,
  not_permitted: 403,
  remote_access_disabled: 403,
  wrong_tenant: 403,
  tenant_not_provisioned: 403,
  room_not_found: 404,
  session_not_found: 404,
  room_offline: 409,
  room_not_monitored: 409,
  room_in_call: 409,
  room_busy: 409,
  session_already_open: 409,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
};

export const statusFor = (code: ErrorCode): number => statuses[code] ?? 400;
