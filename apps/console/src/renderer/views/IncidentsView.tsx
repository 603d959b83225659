import { incidentCauseLabels, IncidentSeverity, IncidentState, type Incident, type IncidentDetail, type IncidentQuery, type RoomId } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure, IncidentChange } from '../../api/console-api';
import { failureOf } from '../errors';
import { useConsole, usePlatform } from '../store/store';
import { saveFile } from './save-file';
import { Ago, ErrorNote } from './ui';

export const incidentStateLabels: Record<IncidentState, string> = { detected: 'Detected', active: 'Active', investigating: 'Investigating', resolved: 'Resolved' };
const severityLabels: Record<IncidentSeverity, string> = { critical: 'Critical', warning: 'Warning' };
const entryLabels: Record<IncidentDetail['timeline'][number]['kind'], string> = {
  opened: 'Opened by the rules',
  acknowledged: 'Acknowledged',
  assigned: 'Assigned to',
  note: 'Note',
  resolved: 'Resolved',
  autoResolved: 'Resolved by itself: the room recovered',
  reopened: 'Reopened: it failed again',
};

type Filters = Pick<IncidentQuery, 'state' | 'severity' | 'roomId' | 'locationId'> & { mine?: boolean };

/** The incidents matching `query`, kept current by the server's pushes. */
function useIncidents(query: IncidentQuery): { incidents: Incident[]; error: ConsoleFailure | null; reload(): void } {
  const { api, events } = usePlatform();
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const key = JSON.stringify(query);
  const reload = useCallback(() => {
    api.incidents(JSON.parse(key) as IncidentQuery).then(
      (list) => {
        setIncidents(list);
        setError(null);
      },
      (e: unknown) => setError(failureOf(e)),
    );
  }, [api, key]);
  useEffect(() => reload(), [reload]);
  // A push says something changed; the server decides what still matches the filters.
  useEffect(() => events.on('incident', () => reload()), [events, reload]);
  return { incidents, error, reload };
}

/** Incidents across the rooms the user may read: filters, the list, and the chosen one's timeline and actions. */
export function IncidentsView() {
  const { api } = usePlatform();
  const userId = useConsole((s) => s.status?.account?.userId ?? '');
  const rooms = useConsole((s) => s.rooms);
  const severity = useConsole((s) => s.incidentSeverity);
  const [filters, setFilters] = useState<Filters>({ state: 'open', ...(severity && { severity }) });
  const [selected, setSelected] = useState<string | null>(null);
  const query: IncidentQuery = { ...(filters.state && { state: filters.state }), ...(filters.severity && { severity: filters.severity }), ...(filters.roomId && { roomId: filters.roomId }), ...(filters.mine && { assigneeId: userId }) };
  const { incidents, error } = useIncidents(query);
  const [exportError, setExportError] = useState<ConsoleFailure | null>(null);
  const exportCsv = async () => {
    try {
      const { filename, csv } = await api.exportIncidents({ ...query, limit: 1000 });
      saveFile(filename, csv, 'text/csv');
    } catch (e) {
      setExportError(failureOf(e));
    }
  };
  const set = (patch: Partial<Filters>) => setFilters((f) => ({ ...f, ...patch }));
  return (
    <div className="incidents-view">
      <section className="panel" aria-label="Incidents">
        <h2>Incidents</h2>
        <div className="toolbar">
          <select aria-label="State" value={filters.state ?? ''} onChange={(e) => set({ state: (e.target.value || undefined) as Filters['state'] })}>
            <option value="open">Open</option>
            <option value="">All</option>
            {IncidentState.options.map((s) => (
              <option key={s} value={s}>
                {incidentStateLabels[s]}
              </option>
            ))}
          </select>
          <select aria-label="Severity" value={filters.severity ?? ''} onChange={(e) => set({ severity: (e.target.value || undefined) as Filters['severity'] })}>
            <option value="">Any severity</option>
            {IncidentSeverity.options.map((s) => (
              <option key={s} value={s}>
                {severityLabels[s]}
              </option>
            ))}
          </select>
          <select aria-label="Room" value={filters.roomId ?? ''} onChange={(e) => set({ roomId: e.target.value || undefined })}>
            <option value="">All rooms</option>
            {rooms.map((r) => (
              <option key={r.id} value={r.id}>
                {r.name}
              </option>
            ))}
          </select>
          <label className="check">
            <input type="checkbox" checked={filters.mine ?? false} onChange={(e) => set({ mine: e.target.checked })} />
            Assigned to me
          </label>
          <button type="button" onClick={() => void exportCsv()}>
            Export CSV
          </button>
        </div>
        <ErrorNote error={error ?? exportError} />
        <IncidentTable incidents={incidents} selected={selected} onSelect={setSelected} />
      </section>
      {selected && <IncidentPanel incidentId={selected} onClose={() => setSelected(null)} />}
    </div>
  );
}

export function IncidentTable({ incidents, selected, onSelect }: { incidents: Incident[]; selected: string | null; onSelect(id: string): void }) {
  if (incidents.length === 0) return <p className="empty">No incidents match.</p>;
  return (
    <table className="grid incidents">
      <thead>
        <tr>
          <th>Severity</th>
          <th>Room</th>
          <th>Cause</th>
          <th>State</th>
          <th>Opened</th>
          <th>Assignee</th>
        </tr>
      </thead>
      <tbody>
        {incidents.map((i) => (
          <tr key={i.id} data-incident={i.id} data-state={i.state} aria-selected={i.id === selected} onClick={() => onSelect(i.id)}>
            <td className={`severity ${i.severity}`}>{severityLabels[i.severity]}</td>
            <td>{i.roomName}</td>
            <td>{incidentCauseLabels[i.cause]}</td>
            <td>
              {incidentStateLabels[i.state]}
              {i.autoResolved && ' (by itself)'}
              {i.reopened > 0 && ` · reopened ${i.reopened}×`}
            </td>
            <td>
              <Ago at={i.openedAt} />
            </td>
            <td>{i.assigneeName ?? '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One incident: its timeline, and what a person with incidents.manage may do next. */
function IncidentPanel({ incidentId, onClose }: { incidentId: string; onClose(): void }) {
  const { api, events } = usePlatform();
  const canManage = useConsole((s) => s.status?.account?.permissions.includes('incidents.manage') ?? false);
  const [detail, setDetail] = useState<IncidentDetail | null>(null);
  const [note, setNote] = useState('');
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => api.incident(incidentId).then(setDetail, (e: unknown) => setError(failureOf(e))), [api, incidentId]);
  useEffect(() => void load(), [load]);
  useEffect(() => events.on('incident', (incident) => incident.id === incidentId && void load()), [events, incidentId, load]);
  const act = async (change: IncidentChange) => {
    setError(null);
    try {
      await api.changeIncident(incidentId, change);
      if (change.kind === 'note') setNote('');
      await load();
    } catch (e) {
      setError(failureOf(e));
    }
  };
  if (!detail) return <ErrorNote error={error} />;
  const { incident, timeline } = detail;
  const open = incident.state !== 'resolved';
  return (
    <aside className="panel incident-panel" aria-label={`Incident ${incidentCauseLabels[incident.cause]} in ${incident.roomName}`}>
      <header>
        <h3>
          {incidentCauseLabels[incident.cause]} · {incident.roomName}
        </h3>
        <button type="button" aria-label="Close incident" onClick={onClose}>
          ✕
        </button>
      </header>
      <p>
        <span className={`severity ${incident.severity}`}>{severityLabels[incident.severity]}</span> · <b data-testid="incident-state">{incidentStateLabels[incident.state]}</b>
        {incident.assigneeName && <> · assigned to {incident.assigneeName}</>}
      </p>
      {canManage && (
        <div className="actions">
          {incident.state === 'detected' && (
            <button type="button" onClick={() => void act({ kind: 'acknowledge' })}>
              Acknowledge
            </button>
          )}
          {open && (
            <button type="button" onClick={() => void act({ kind: 'assignToMe' })}>
              Assign to me
            </button>
          )}
          {open && (
            <button type="button" className="primary" onClick={() => void act({ kind: 'resolve' })}>
              Resolve
            </button>
          )}
        </div>
      )}
      <ErrorNote error={error} />
      <ol className="incident-timeline" aria-label="Timeline">
        {timeline.map((entry, index) => (
          <li key={index} data-kind={entry.kind}>
            <time dateTime={entry.at}>{new Date(entry.at).toLocaleString()}</time> {entryLabels[entry.kind]}
            {entry.kind === 'assigned' ? ` ${entry.text}` : entry.text ? `: ${entry.text}` : ''}
            {entry.by && <span className="hint"> — {entry.by}</span>}
          </li>
        ))}
      </ol>
      {canManage && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (note.trim()) void act({ kind: 'note', text: note.trim() });
          }}
        >
          <label>
            Add a note
            <textarea value={note} maxLength={4000} onChange={(e) => setNote(e.target.value)} />
          </label>
          <button type="submit" disabled={!note.trim()}>
            Add note
          </button>
        </form>
      )}
    </aside>
  );
}

/** A room's incidents, newest first, in its details. */
export function RoomIncidents({ roomId }: { roomId: RoomId }) {
  const { incidents, error } = useIncidents({ roomId, limit: 50 });
  const [selected, setSelected] = useState<string | null>(null);
  return (
    <div role="tabpanel">
      <ErrorNote error={error} />
      <IncidentTable incidents={incidents} selected={selected} onSelect={setSelected} />
      {selected && <IncidentPanel incidentId={selected} onClose={() => setSelected(null)} />}
    </div>
  );
}
