import { describe, expect, it } from 'vitest';
import { errorCodes, errorMessages, isErrorCode, roomHealth, roomlinkError, type HealthSignals } from '../src';

const ok: HealthSignals = { app: 'ok', audio: 'ok', camera: 'ok', display: 'ok', network: 'ok', signIn: 'ok' };

describe('roomHealth', () => {
  it('follows the signals: offline, critical, non-urgent, healthy', () => {
    expect(roomHealth(false, ok)).toBe('offline');
    expect(roomHealth(true, null)).toBe('offline');
    expect(roomHealth(true, ok)).toBe('healthy');
    expect(roomHealth(true, { ...ok, camera: 'error' })).toBe('nonUrgent');
    expect(roomHealth(true, { ...ok, network: 'warning' })).toBe('nonUrgent');
    expect(roomHealth(true, { ...ok, camera: 'warning', signIn: 'error' })).toBe('critical');
  });
});

describe('error codes', () => {
  it('gives every code the product shows a message a person can read', () => {
    for (const code of ['remote_access_disabled', 'not_permitted', 'room_offline', 'room_not_monitored', 'room_in_call', 'grant_invalid', 'grant_expired', 'grant_replayed', 'wrong_tenant', 'bad_request'] as const) {
      expect(errorCodes).toContain(code);
      expect(errorMessages[code].length).toBeGreaterThan(10);
    }
    expect(roomlinkError('room_in_call')).toEqual({ code: 'room_in_call', message: errorMessages.room_in_call });
    expect(isErrorCode('room_in_call')).toBe(true);
    expect(isErrorCode('toString')).toBe(false);
  });
});
