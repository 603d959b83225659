import { incidentCauseLabels, RoomHealth, roomHealthLabels, type Incident, type IncidentSeverity, type SessionView } from '@roomlink/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { useConsole, usePlatform } from '../store/store';
import { incidentStateLabels } from './IncidentsView';
import { Ago } from './ui';

/**
 * Home: how the rooms are, what is broken and who is on it, who is in a
 * room right now. Every number opens the list it counts; everything
 * updates as the server pushes room states and incidents.
 */
export function Dashboard() {
  const { api, events } = usePlatform();
  const rooms = useConsole((s) => s.rooms);
  const go = useConsole((s) => s.go);
  const setFilter = useConsole((s) => s.setFilter);
  const clearFilters = useConsole((s) => s.clearFilters);
  const openIncidents = useConsole((s) => s.openIncidents);
  const [incidents, setIncidents] = useState<Incident[]>([]);
  const [sessions, setSessions] = useState<SessionView[] | null>(null);
  const load = useCallback(() => {
    api.incidents({ state: 'open', limit: 1000 }).then(setIncidents, () => setIncidents([]));
    // Only those who may read the audit see sessions; for the others the tile is left out.
    api.activeSessions().then(setSessions, () => setSessions(null));
  }, [api]);
  useEffect(() => load(), [load]);
  useEffect(() => events.on('incident', () => load()), [events, load]);
  useEffect(() => events.on('session.state', () => load()), [events, load]);

  const byHealth = useMemo(() => {
    const counts = Object.fromEntries(RoomHealth.options.map((h) => [h, 0])) as Record<RoomHealth, number>;
    for (const room of rooms) counts[room.health] += 1;
    return counts;
  }, [rooms]);
  const bySeverity = (severity: IncidentSeverity) => incidents.filter((i) => i.severity === severity).length;
  const showRooms = (health: RoomHealth) => {
    clearFilters();
    setFilter('health', health);
    go('rooms');
  };

  return (
    <div className="dashboard">
      <section className="panel" aria-label="Rooms by health">
        <h2>Rooms</h2>
        <div className="health-bar" aria-hidden="true">
          {RoomHealth.options.map((health) => byHealth[health] > 0 && <span key={health} className={`health-${health}`} style={{ flexGrow: byHealth[health] }} />)}
        </div>
        <div className="tiles">
          {RoomHealth.options.map((health) => (
            <button key={health} type="button" className={`tile health-${health}`} data-testid={`dashboard-${health}`} onClick={() => showRooms(health)}>
              <b>{byHealth[health]}</b> {roomHealthLabels[health]}
            </button>
          ))}
        </div>
      </section>
      <section className="panel" aria-label="Open incidents">
        <h2>Open incidents</h2>
        <div className="tiles">
          {(['critical', 'warning'] as const).map((severity) => (
            <button key={severity} type="button" className={`tile severity ${severity}`} data-testid={`dashboard-incidents-${severity}`} onClick={() => openIncidents(severity)}>
              <b>{bySeverity(severity)}</b> {severity === 'critical' ? 'Critical' : 'Warning'}
            </button>
          ))}
          {sessions && (
            <div className="tile" data-testid="dashboard-sessions">
              <b>{sessions.length}</b> session{sessions.length === 1 ? '' : 's'} in progress
            </div>
          )}
        </div>
        <h3>Newest</h3>
        {incidents.length === 0 ? (
          <p className="empty">No open incidents.</p>
        ) : (
          <ul className="newest-incidents">
            {incidents.slice(0, 5).map((i) => (
              <li key={i.id}>
                <span className={`severity ${i.severity}`}>{i.severity === 'critical' ? 'Critical' : 'Warning'}</span> {incidentCauseLabels[i.cause]} in <b>{i.roomName}</b> · {incidentStateLabels[i.state]} · <Ago at={i.openedAt} />
              </li>
            ))}
          </ul>
        )}
      </section>
    </div>
  );
}
