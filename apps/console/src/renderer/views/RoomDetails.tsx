import { HealthSignal, healthSignalLabels, type RemoteAccessSettings, type Room, roomHealthLabels } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { locationText } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { HealthTimeline } from './HealthTimeline';
import { RoomIncidents } from './IncidentsView';
import { RoomAdminActions } from './RoomForms';
import { Ago, ErrorNote } from './ui';

type Tab = 'overview' | 'health' | 'incidents' | 'remoteAccess';

export function RoomDetails({ room }: { room: Room }) {
  const [tab, setTab] = useState<Tab>('overview');
  const selectRoom = useConsole((s) => s.selectRoom);
  // The tab exists only for a level of view or modify: no tab, no permission.
  const tabs: [Tab, string][] = [['overview', 'Overview'], ['health', 'Health'], ['incidents', 'Incidents'], ...(room.remoteAccess !== 'none' ? [['remoteAccess', 'Remote Access'] as [Tab, string]] : [])];
  const current = tabs.some(([id]) => id === tab) ? tab : 'overview';
  return (
    <aside className="room-details" aria-label={`Room ${room.name}`}>
      <header>
        <h2>{room.name}</h2>
        <button type="button" aria-label="Close details" onClick={() => selectRoom(null)}>
          ✕
        </button>
      </header>
      <div role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} role="tab" type="button" aria-selected={current === id} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      {current === 'overview' && <Overview room={room} />}
      {current === 'health' && <Health room={room} />}
      {current === 'incidents' && <RoomIncidents roomId={room.id} />}
      {current === 'remoteAccess' && <RemoteAccessTab room={room} />}
    </aside>
  );
}

function Overview({ room }: { room: Room }) {
  const canManage = useConsole((s) => s.status?.account?.permissions.includes('rooms.manage') ?? false);
  return (
    <div role="tabpanel">
      <dl className="facts">
        <dt>Health</dt>
        <dd className={`health ${room.health}`}>{roomHealthLabels[room.health]}</dd>
        <dt>Status</dt>
        <dd>{room.inCall ? 'In a call' : room.online ? 'Online' : 'Offline'}</dd>
        <dt>Location</dt>
        <dd>{locationText(room) || '—'}</dd>
        <dt>Tags</dt>
        <dd>{room.tags.join(', ') || '—'}</dd>
        <dt>Platform</dt>
        <dd>{room.platform}</dd>
        <dt>License</dt>
        <dd>{room.license === 'pro' ? 'Pro' : 'Basic'}</dd>
        <dt>Agent</dt>
        <dd>{room.enrolled ? 'Enrolled' : 'Not enrolled'}</dd>
        <dt>Displays</dt>
        <dd>{room.displays.map((d) => `${d.label} (${d.width}×${d.height})`).join(', ') || '—'}</dd>
        <dt>Last seen</dt>
        <dd>
          <Ago at={room.lastSeenAt} />
        </dd>
      </dl>
      {canManage && <RoomAdminActions room={room} />}
    </div>
  );
}

function Health({ room }: { room: Room }) {
  return (
    <div role="tabpanel">
      {room.signals ? (
        <ul className="signals" aria-label="Signals now">
          {HealthSignal.options.map((signal) => (
            <li key={signal} className={`signal ${room.signals![signal]}`}>
              <span>{healthSignalLabels[signal]}</span>
              <span>{room.signals![signal] === 'ok' ? 'OK' : room.signals![signal] === 'warning' ? 'Warning' : 'Error'}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p>No health reports: the room's agent has not reported yet.</p>
      )}
      <HealthTimeline room={room} />
    </div>
  );
}

/** Why a session cannot start right now, in the order the server checks (rule 5); null when it can. */
function blocker(room: Room, settings: RemoteAccessSettings | null): string | null {
  if (settings && !settings.enabled) return 'Remote access is turned off for your organization. An administrator can turn it on in Settings › Remote Access.';
  if (!room.online) return 'The room is offline: its agent is not connected.';
  if (!room.monitored) return 'The room is not monitored for remote access (it needs a Pro license and an enrolled agent).';
  if (room.inCall) return 'The room is in a call. A session can start when the call has ended.';
  return null;
}

function RemoteAccessTab({ room }: { room: Room }) {
  const { api } = usePlatform();
  const startSession = useConsole((s) => s.startSession);
  const [settings, setSettings] = useState<RemoteAccessSettings | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => {
    api.remoteAccess().then(setSettings, (e: unknown) => setError(failureOf(e)));
  }, [api]);
  const why = blocker(room, settings);
  return (
    <div role="tabpanel" className="remote-access">
      <p>
        Your level for this room: <span className={`badge access-${room.remoteAccess}`}>{room.remoteAccess === 'modify' ? 'Modify — view and control the keyboard' : 'View — see the displays only'}</span>
      </p>
      <p className="hint">Everyone in the room sees a red ring around the displays while you are connected. No audio is ever sent.</p>
      {why && (
        <p className="blocked" role="status">
          {why}
        </p>
      )}
      <button type="button" className="primary" disabled={why !== null} onClick={() => void startSession(room)}>
        Start session
      </button>
      <ErrorNote error={error} />
    </div>
  );
}
