import { incidentCauseLabels, IncidentSeverity, RoomHealth, roomHealthLabels, type DashboardSummary } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { useConsole, usePlatform } from '../store/store';
import { throttle } from '../throttle';
import { incidentStateLabels } from './IncidentsView';
import { Ago, ErrorNote } from './ui';

/** How soon after a push the numbers are asked for again, at most. */
const RELOAD_MS = 1000;

/**
 * Home: how the rooms are, what is broken and who is on it, who is in a
 * room right now. Every number opens the list it counts; everything
 * updates as the server pushes room states and incidents.
 */
export function Dashboard() {
  const { api, events } = usePlatform();
  const go = useConsole((s) => s.go);
  const setFilter = useConsole((s) => s.setFilter);
  const clearFilters = useConsole((s) => s.clearFilters);
  const openIncidents = useConsole((s) => s.openIncidents);
  const [summary, setSummary] = useState<DashboardSummary | null>(null);
  const [failure, setFailure] = useState<ConsoleFailure | null>(null);
  useEffect(() => {
    const load = () =>
      void api.dashboard().then(
        (fresh) => {
          setSummary(fresh);
          setFailure(null);
        },
        // The last numbers stay, marked: a dashboard that empties when the server blinks would say all is well.
        (error: unknown) => setFailure(failureOf(error)),
      );
    load();
    // Thousands of rooms may change each minute: the numbers follow within a second, in one request.
    const reload = throttle(load, RELOAD_MS);
    const offs = [events.on('room.states', reload), events.on('incident', reload), events.on('session.state', reload)];
    return () => {
      reload.cancel();
      for (const off of offs) off();
    };
  }, [api, events]);

  if (!summary) return <div className="dashboard">{failure ? <ErrorNote error={failure} /> : <p aria-busy="true">Loading…</p>}</div>;
  const { byHealth } = summary.rooms;
  const { open, newest } = summary.incidents;
  const showRooms = (health: RoomHealth) => {
    clearFilters();
    setFilter('health', health);
    go('rooms');
  };

  return (
    <div className="dashboard">
      <ErrorNote error={failure} />
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
          <div className="tile" data-testid="dashboard-in-call">
            <b>{summary.rooms.inCall}</b> in a call
          </div>
        </div>
      </section>
      <section className="panel" aria-label="Open incidents">
        <h2>Open incidents</h2>
        <div className="tiles">
          {IncidentSeverity.options.map((severity) => (
            <button key={severity} type="button" className={`tile severity ${severity}`} data-testid={`dashboard-incidents-${severity}`} onClick={() => openIncidents(severity)}>
              <b>{open[severity]}</b> {severity === 'critical' ? 'Critical' : 'Warning'}
            </button>
          ))}
          {summary.sessionsInProgress !== null && (
            <div className="tile" data-testid="dashboard-sessions">
              <b>{summary.sessionsInProgress}</b> session{summary.sessionsInProgress === 1 ? '' : 's'} in progress
            </div>
          )}
        </div>
        <h3>Newest</h3>
        {newest.length === 0 ? (
          <p className="empty">No open incidents.</p>
        ) : (
          <ul className="newest-incidents">
            {newest.map((i) => (
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
