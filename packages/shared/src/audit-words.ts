import { incidentCauseLabels, IncidentCause, type AuditRecord } from './api';
import { endReasonMessages, type EndReason } from './domain';
import { errorMessages, isErrorCode } from './errors';

/** "1:03:12", "0:00:45": how long a session lasted, as h:mm:ss. */
export function formatDuration(ms: unknown): string | null {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return null;
  const seconds = Math.round(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(seconds / 3600)}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)}`;
}

const levelLabel = (level: unknown) => (level === 'modify' ? 'Modify' : level === 'view' ? 'View' : null);
const deviceLabel = (device: unknown) => (device && typeof device === 'object' && 'name' in device ? `from ${String((device as { name: unknown }).name)}` : null);
const refusal = (code: unknown) => (isErrorCode(code) ? errorMessages[code] : null);
const repeated = (data: Record<string, unknown>) => (typeof data.repeated === 'number' ? `and ${data.repeated} more like it until ${new Date(String(data.lastAt)).toLocaleTimeString()}` : null);
const roleLine = (role: unknown) => {
  if (!role || typeof role !== 'object') return null;
  const r = role as { name?: string; permissions?: string[]; assignments?: unknown[] };
  return `${r.name ?? 'role'}: ${(r.permissions ?? []).join(', ')}; ${(r.assignments ?? []).length} assignment(s)`;
};

const causeLabel = (cause: unknown) => (IncidentCause.safeParse(cause).success ? incidentCauseLabels[cause as IncidentCause] : null);
type RoomFields = { name?: string; tags?: string[]; license?: string; locationId?: string | null };
const asObject = <T>(value: unknown): T | null => (value && typeof value === 'object' ? (value as T) : null);
const roomLine = (value: unknown) => {
  const room = asObject<RoomFields>(value);
  return room ? [room.name, room.license && `${room.license === 'pro' ? 'Pro' : 'Basic'} licence`, room.tags?.length ? `tags ${room.tags.join(', ')}` : null].filter(Boolean).join(', ') : null;
};
/** Each field a room change touched, before → after; a move names no location (ids mean nothing to a reader). */
const roomChanges = (beforeValue: unknown, patchValue: unknown): string[] => {
  const before = asObject<RoomFields>(beforeValue) ?? {};
  const patch = asObject<RoomFields>(patchValue) ?? {};
  const changes: string[] = [];
  if (patch.name !== undefined && patch.name !== before.name) changes.push(`name: ${before.name ?? '—'} → ${patch.name}`);
  if (patch.locationId !== undefined && patch.locationId !== before.locationId) changes.push('moved to another location');
  if (patch.tags !== undefined && patch.tags.join() !== before.tags?.join()) changes.push(`tags: ${before.tags?.join(', ') || '—'} → ${patch.tags.join(', ') || '—'}`);
  if (patch.license !== undefined && patch.license !== before.license) changes.push(`licence: ${before.license ?? '—'} → ${patch.license}`);
  return changes.length ? changes : ['nothing changed'];
};
type LocationFields = { name?: string; kind?: string; parentId?: string | null };
const locationLine = (value: unknown) => {
  const location = asObject<LocationFields>(value);
  return location ? `${location.name ?? '—'} (${location.kind ?? 'location'})` : null;
};
const locationChanges = (beforeValue: unknown, afterValue: unknown): string[] => {
  const before = asObject<LocationFields>(beforeValue) ?? {};
  const after = asObject<LocationFields>(afterValue) ?? {};
  return [after.name !== before.name ? `renamed ${before.name ?? '—'} → ${after.name ?? '—'}` : locationLine(after), after.parentId !== before.parentId ? 'moved, with its rooms, to another parent' : null].filter((part): part is string => Boolean(part));
};

/** What a record says, in words a person reads; key contents never exist here, only counts. */
export function auditSummary(record: AuditRecord): string {
  const data = record.data;
  const input = data.input as { accepted?: number; dropped?: number; pointer?: { accepted?: number; dropped?: number } } | null | undefined;
  const keys = input === null ? 'keys unknown (the room never reported)' : input ? `${input.accepted ?? 0} keys${input.dropped ? ` (${input.dropped} dropped)` : ''}` : null;
  const pointer = input?.pointer && (input.pointer.accepted || input.pointer.dropped) ? `${input.pointer.accepted ?? 0} pointer events${input.pointer.dropped ? ` (${input.pointer.dropped} dropped)` : ''}` : null;
  const parts: (string | null)[] = (() => {
    switch (record.type) {
      case 'session.started':
        return [levelLabel(data.level), deviceLabel(data.consoleDevice)];
      case 'session.ended':
        return [
          levelLabel(data.level),
          endReasonMessages[data.reason as EndReason] ?? String(data.reason),
          formatDuration(data.durationMs) ?? 'duration unknown',
          keys,
          pointer,
          deviceLabel(data.consoleDevice),
          data.restarted === true ? 'the room restarted afterwards' : null,
        ];
      case 'session.refused':
      case 'session.rejected':
        return [refusal(data.code), deviceLabel(data.consoleDevice), repeated(data)];
      case 'session.lowered':
        return [
          data.from !== data.to ? 'Access dropped from Modify to View during the session' : null,
          typeof data.pointer === 'object' && data.pointer !== null ? 'Pointer control withdrawn during the session' : null,
        ];
      case 'role.created':
      case 'role.deleted':
        return [roleLine(data.role)];
      case 'role.updated':
        return [`before: ${roleLine(data.before) ?? '—'}`, `after: ${roleLine(data.after) ?? '—'}`];
      case 'remoteAccess.enabled':
        return [`acknowledged by ${String(data.acknowledgingEmail)}`];
      case 'agent.proofFailed':
        return [`from ${String(data.address)}`, repeated(data)];
      case 'room.created':
        return [roomLine(data.body)];
      case 'room.updated':
        return roomChanges(data.before, data.patch);
      case 'room.retired':
        return [roomLine(data.before), Array.isArray(data.rolesChanged) && data.rolesChanged.length ? `removed from the role(s) ${data.rolesChanged.join(', ')}` : null];
      case 'location.created':
      case 'location.deleted':
        return [locationLine(data.location)];
      case 'location.updated':
        return locationChanges(data.before, data.after);
      case 'room.enrollmentCodeIssued':
        return [typeof data.expiresAt === 'string' ? `valid until ${new Date(data.expiresAt).toLocaleString()}` : null];
      case 'incident.opened':
        return [causeLabel(data.cause), typeof data.severity === 'string' ? data.severity : null];
      case 'incident.changed':
        return [causeLabel(data.cause), typeof data.change === 'string' ? `${data.change}${typeof data.text === 'string' ? `: ${data.text}` : ''}` : null];
      case 'session.adopted':
        return [`run by ${String(data.toNode)} from now on`, typeof data.fromNode === 'string' ? `${data.fromNode} was gone` : 'the node running it had shut down'];
      case 'room.logsCollected':
        return [typeof data.size === 'number' ? `${(data.size / 1024).toFixed(1)} KB` : null, typeof data.sha256 === 'string' ? `SHA-256 ${data.sha256.slice(0, 12)}…` : null];
      default:
        return Object.entries(data)
          .filter(([, v]) => v !== null && typeof v !== 'object')
          .map(([k, v]) => `${k}: ${String(v)}`);
    }
  })();
  return parts.filter(Boolean).join(' · ');
}
