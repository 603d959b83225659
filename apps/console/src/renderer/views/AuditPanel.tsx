import { AuditType, auditSummary, auditTypeLabels, type AuditQuery, type AuditRecord, type AuditVerification } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { CachedAuditPage, ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { useConsole, usePlatform } from '../store/store';
import { saveFile } from './save-file';
import { Ago, ErrorNote } from './ui';

const PAGE = 50;

interface Filters {
  type: AuditType | '';
  roomId: string;
  /** Part of who did it, by name. */
  actor: string;
  from: string;
  to: string;
}

function queryOf(filters: Filters, before?: number): AuditQuery {
  return {
    limit: PAGE,
    ...(before !== undefined && { before }),
    ...(filters.type && { type: filters.type }),
    ...(filters.roomId.trim() && { roomId: filters.roomId.trim() }),
    ...(filters.actor.trim() && { actor: filters.actor.trim() }),
    ...(filters.from && { from: new Date(filters.from).toISOString() }),
    ...(filters.to && { to: new Date(filters.to).toISOString() }),
  };
}

/** Every time here is local: one zone, named once in the header. */
const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** The technician's console that did it, where the record names one (sessions and refusals). */
const deviceOf = (record: AuditRecord) => {
  const device = record.data.consoleDevice;
  return device && typeof device === 'object' && 'name' in device ? String((device as { name: unknown }).name) : null;
};

export function AuditPanel() {
  const { api } = usePlatform();
  const rooms = useConsole((s) => s.rooms);
  const [filters, setFilters] = useState<Filters>({ type: '', roomId: '', actor: '', from: '', to: '' });
  const [page, setPage] = useState<CachedAuditPage | null>(null);
  /** The `before` cursor of this page and of the newer pages, for "Newer". */
  const [cursor, setCursor] = useState<number | undefined>(undefined);
  const [trail, setTrail] = useState<(number | undefined)[]>([]);
  const [verification, setVerification] = useState<AuditVerification | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);

  const load = useCallback(
    async (before?: number) => {
      setError(null);
      try {
        setPage(await api.auditPage(queryOf(filters, before)));
      } catch (e) {
        setError(failureOf(e));
      }
    },
    [api, filters],
  );
  useEffect(() => {
    setTrail([]);
    setCursor(undefined);
    void load();
  }, [load]);
  const goTo = (before: number | undefined, newerTrail: (number | undefined)[]) => {
    setTrail(newerTrail);
    setCursor(before);
    void load(before);
  };

  const exportCsv = async () => {
    try {
      const { limit: _limit, ...filtersOnly } = queryOf(filters);
      const { filename, csv } = await api.exportAudit(filtersOnly);
      saveFile(filename, csv, 'text/csv');
    } catch (e) {
      setError(failureOf(e));
    }
  };
  const verify = async () => {
    try {
      setVerification(await api.verifyAudit());
    } catch (e) {
      setError(failureOf(e));
    }
  };
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));

  return (
    <section role="tabpanel" aria-label="Audit log" className="panel">
      <h2>Audit log</h2>
      <div className="toolbar">
        <select aria-label="Event type" value={filters.type} onChange={(e) => set({ type: e.target.value as AuditType | '' })}>
          <option value="">All events</option>
          {AuditType.options.map((t) => (
            <option key={t} value={t}>
              {auditTypeLabels[t]}
            </option>
          ))}
        </select>
        <select aria-label="Room" value={filters.roomId} onChange={(e) => set({ roomId: e.target.value })}>
          <option value="">All rooms</option>
          {rooms.map((room) => (
            <option key={room.id} value={room.id}>
              {room.name}
            </option>
          ))}
        </select>
        <input
          aria-label="Who"
          placeholder="Who (name, then Enter)"
          defaultValue={filters.actor}
          onKeyDown={(e) => e.key === 'Enter' && set({ actor: e.currentTarget.value })}
        />
        <label>
          From <input type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} />
        </label>
        <label>
          To <input type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} />
        </label>
        <button type="button" onClick={() => void exportCsv()}>
          Export CSV
        </button>
        <button type="button" onClick={() => void verify()}>
          Verify chain
        </button>
      </div>
      {verification && (
        <p className={`verification ${verification.ok ? 'ok' : 'bad'}`} role="status" data-testid="audit-verification">
          {verification.ok ? `Chain intact: ${verification.checked} records checked, ${verification.sealedThroughSeq === null ? 'none sealed yet' : `sealed through record ${verification.sealedThroughSeq}`}.` : `Chain broken${verification.firstBadSeq === null ? '' : ` at record ${verification.firstBadSeq}`}: ${verification.problem}`}
        </p>
      )}
      {page?.cachedAt && (
        <p className="stale">
          The service cannot be reached: showing this page as saved <Ago at={page.cachedAt} />.
        </p>
      )}
      <ErrorNote error={error} />
      <table className="grid audit">
        <thead>
          <tr>
            <th>When ({timeZone})</th>
            <th>Event</th>
            <th>Who</th>
            <th>Device</th>
            <th>Room</th>
            <th>Details</th>
          </tr>
        </thead>
        <tbody>
          {(page?.records ?? []).map((record) => (
            <tr key={record.seq} data-type={record.type}>
              <td>
                <time dateTime={record.at}>{new Date(record.at).toLocaleString()}</time>
              </td>
              <td>{auditTypeLabels[record.type]}</td>
              <td>{record.actorName ?? '—'}</td>
              <td>{deviceOf(record) ?? '—'}</td>
              <td>{record.roomName ?? '—'}</td>
              <td className="details">{auditSummary(record)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {page && page.records.length === 0 && <p className="empty">No audit records match these filters.</p>}
      <div className="pager">
        <button
          type="button"
          disabled={trail.length === 0}
          onClick={() => goTo(trail[trail.length - 1], trail.slice(0, -1))}
        >
          Newer
        </button>
        <button
          type="button"
          disabled={!page?.nextBefore}
          onClick={() => goTo(page!.nextBefore!, [...trail, cursor])}
        >
          Older
        </button>
      </div>
    </section>
  );
}
