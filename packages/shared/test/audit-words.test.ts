import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/api';
import { auditSummary as summary, formatDuration } from '../src/audit-words';

const record = (type: AuditRecord['type'], data: Record<string, unknown>): AuditRecord => ({ seq: 1, at: '2026-12-01T10:00:00.000Z', type, actorId: 'u-tech', actorName: 'Tomas', roomId: 'r1', roomName: 'Fjord', sessionId: null, data, hash: 'x' });

describe('audit rows in words', () => {
  it('says how a session ended: level, reason, duration, keys, device and restart', () => {
    const ended = record('session.ended', { level: 'modify', reason: 'user_ended', durationMs: 192_400, input: { accepted: 42, dropped: 3 }, consoleDevice: { name: 'TECH-LAPTOP-7' }, restarted: true, startedAt: '2026-12-01T09:56:48.000Z' });
    expect(summary(ended)).toBe('Modify · The session was ended by the technician. · 0:03:12 · 42 keys (3 dropped) · from TECH-LAPTOP-7 · the room restarted afterwards');
  });

  it('says what a lowering took away: the level, the pointer, or both', () => {
    expect(summary(record('session.lowered', { from: 'modify', to: 'view' }))).toBe('Access dropped from Modify to View during the session');
    expect(summary(record('session.lowered', { from: 'modify', to: 'modify', pointer: { from: true, to: false } }))).toBe('Pointer control withdrawn during the session');
    expect(summary(record('session.lowered', { from: 'modify', to: 'view', pointer: { from: true, to: false } }))).toBe('Access dropped from Modify to View during the session · Pointer control withdrawn during the session');
  });

  it('writes durations as h:mm:ss, and nothing for a duration that is not one', () => {
    expect([0, 45_000, 192_400, 3_792_000, 90_000_000].map(formatDuration)).toEqual(['0:00:00', '0:00:45', '0:03:12', '1:03:12', '25:00:00']);
    expect([null, -1, Number.NaN, '12'].map(formatDuration)).toEqual([null, null, null, null]);
  });

  it('counts pointer events beside keys when there were any', () => {
    const ended = record('session.ended', { level: 'modify', reason: 'user_ended', durationMs: 5_000, input: { accepted: 2, dropped: 0, pointer: { accepted: 40, dropped: 1 } } });
    expect(summary(ended)).toBe('Modify · The session was ended by the technician. · 0:00:05 · 2 keys · 40 pointer events (1 dropped)');
    expect(summary(record('session.ended', { level: 'modify', reason: 'user_ended', durationMs: 5_000, input: { accepted: 2, dropped: 0, pointer: { accepted: 0, dropped: 0 } } }))).not.toContain('pointer');
  });

  it('says what a directory change changed, before and after', () => {
    expect(summary(record('room.updated', { before: { name: 'Fjord', locationId: 'loc-1', tags: ['huddle'], license: 'basic' }, patch: { name: 'Fjord 2', tags: ['huddle', 'new'], license: 'pro', locationId: 'loc-1' } }))).toBe(
      'name: Fjord → Fjord 2 · tags: huddle → huddle, new · licence: basic → pro',
    );
    expect(summary(record('room.updated', { before: { name: 'Fjord', locationId: 'loc-1' }, patch: { locationId: 'loc-2' } }))).toBe('moved to another location');
    expect(summary(record('location.updated', { before: { name: 'Oslo', kind: 'building', parentId: 'r1' }, after: { name: 'Oslo HQ', kind: 'building', parentId: 'r2' } }))).toBe('renamed Oslo → Oslo HQ · moved, with its rooms, to another parent');
    expect(summary(record('room.retired', { before: { name: 'Old', license: 'pro', tags: [] }, rolesChanged: ['Oslo technicians'] }))).toBe('Old, Pro licence · removed from the role(s) Oslo technicians');
    expect(summary(record('location.deleted', { location: { name: 'Floor 9', kind: 'floor' } }))).toBe('Floor 9 (floor)');
  });

  it('names an incident by its cause, and what happened to it', () => {
    expect(summary(record('incident.opened', { incidentId: 'inc-1', cause: 'signal.camera', severity: 'warning' }))).toBe('Camera failing · warning');
    expect(summary(record('incident.changed', { incidentId: 'inc-1', cause: 'offline', change: 'note', text: 'on my way' }))).toBe('Room offline · note: on my way');
  });

  it('says unknown where the room never reported, never zero', () => {
    const orphan = record('session.ended', { level: 'view', reason: 'control_plane_lost', durationMs: null, input: null });
    expect(summary(orphan)).toBe('View · The connection to the service was lost. · duration unknown · keys unknown (the room never reported)');
  });

  it('gives a refusal its message and a folded flood its count', () => {
    const refused = record('session.refused', { code: 'rate_limited', consoleDevice: { name: 'LAPTOP' }, repeated: 499, firstAt: '2026-12-01T10:00:00.000Z', lastAt: '2026-12-01T10:00:01.000Z' });
    expect(summary(refused)).toMatch(/^Too many attempts\. Wait a moment and try again\. · from LAPTOP · and 499 more like it until /);
  });
});
