import type { EnrollmentCode, Location, LocationKind, Platform, Room } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { pathLabel } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { Confirm, Dialog, ErrorNote, FormDialog } from './ui';

const platformChoices: [Platform, string][] = [
  ['windows', 'Windows (Teams Rooms)'],
  ['x11', 'Linux (X11)'],
];

/**
 * A new room, then its enrollment code: what an administrator does before
 * installing the agent on the room's PC. The server decides where the
 * caller may create one; a refusal is shown as it comes.
 */
export function AddRoomDialog({ onClose }: { onClose(): void }) {
  const { api } = usePlatform();
  const syncRooms = useConsole((s) => s.syncRooms);
  const [locations, setLocations] = useState<Location[]>([]);
  const [name, setName] = useState('');
  const [locationId, setLocationId] = useState('');
  const [tags, setTags] = useState('');
  const [platform, setPlatform] = useState<Platform>('windows');
  const [license, setLicense] = useState<'pro' | 'basic'>('pro');
  const [created, setCreated] = useState<{ room: Room; code: EnrollmentCode } | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => void api.locations().then(setLocations, (e: unknown) => setError(failureOf(e))), [api]);

  const create = async () => {
    try {
      const room = await api.createRoom({
        name: name.trim(),
        locationId: (locationId || null) as Room['locationId'],
        tags: [...new Set(tags.split(',').map((t) => t.trim()).filter(Boolean))],
        platform,
        license,
      });
      setCreated({ room, code: await api.enrollmentCode(room.id) });
      void syncRooms();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  if (created) return <EnrollmentCodeDialog room={created.room} code={created.code} onClose={onClose} />;
  return (
    <FormDialog title="Add a room" error={error} action="Add room" canAct={name.trim().length > 0} onAct={() => void create()} onClose={onClose}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <LocationSelect label="Location" none="No location" locations={locations} value={locationId} onChange={setLocationId} />
      <label>
        Tags (comma separated)
        <input value={tags} onChange={(e) => setTags(e.target.value)} />
      </label>
      <label>
        Platform
        <select value={platform} onChange={(e) => setPlatform(e.target.value as Platform)}>
          {platformChoices.map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        License
        <select value={license} onChange={(e) => setLicense(e.target.value as 'pro' | 'basic')}>
          <option value="pro">Pro (monitored, remote access possible)</option>
          <option value="basic">Basic</option>
        </select>
      </label>
    </FormDialog>
  );
}

/** The code and the one command that enrolls the room's PC with it. */
export function EnrollmentCodeDialog({ room, code, onClose }: { room: Room; code: EnrollmentCode; onClose(): void }) {
  const serverUrl = useConsole((s) => s.status?.serverUrl ?? '');
  return (
    <Dialog title={`Enroll ${room.name}`} onClose={onClose}>
      <h2>Enroll {room.name}</h2>
      <div className="dialog-body">
        <p>
          Enrollment code: <code data-testid="enrollment-code">{code.code}</code>, usable once until {new Date(code.expiresAt).toLocaleString()}.
        </p>
        <p>On the room's PC, with the Roomlink agent installed, run:</p>
        <pre data-testid="enroll-command">{`npm run agent -- enroll --server ${serverUrl} --code ${code.code}`}</pre>
      </div>
      <div className="dialog-actions">
        <button type="button" className="primary" onClick={onClose} autoFocus>
          Done
        </button>
      </div>
    </Dialog>
  );
}

/** Issues a fresh code for a room that exists, e.g. after replacing its PC. */
export function EnrollmentCodeButton({ room }: { room: Room }) {
  const { api } = usePlatform();
  const [code, setCode] = useState<EnrollmentCode | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const issue = async () => {
    try {
      setCode(await api.enrollmentCode(room.id));
    } catch (e) {
      setError(failureOf(e));
    }
  };
  return (
    <>
      <button type="button" onClick={() => void issue()}>
        Enrollment code
      </button>
      <ErrorNote error={error} />
      {code && <EnrollmentCodeDialog room={room} code={code} onClose={() => setCode(null)} />}
    </>
  );
}

const parentKind: Record<LocationKind, LocationKind | null> = { region: null, building: 'region', floor: 'building' };
const kindLabels: Record<LocationKind, string> = { region: 'Region', building: 'Building', floor: 'Floor' };

/** A region, a building in a region, or a floor in a building: the only nesting the directory accepts. */
export function AddLocationDialog({ onClose }: { onClose(): void }) {
  const { api } = usePlatform();
  const [locations, setLocations] = useState<Location[]>([]);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<LocationKind>('building');
  const [parentId, setParentId] = useState('');
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => void api.locations().then(setLocations, (e: unknown) => setError(failureOf(e))), [api]);
  const parents = locations.filter((l) => l.kind === parentKind[kind]);

  const create = async () => {
    try {
      await api.createLocation({ name: name.trim(), kind, parentId: (parentKind[kind] ? parentId || null : null) as Location['parentId'] });
      onClose();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  return (
    <FormDialog
      title="Add a location"
      error={error}
      action="Add location"
      canAct={name.trim().length > 0 && (parentKind[kind] === null || parentId !== '')}
      onAct={() => void create()}
      onClose={onClose}
    >
      <label>
        Kind
        <select
          value={kind}
          onChange={(e) => {
            setKind(e.target.value as LocationKind);
            setParentId('');
          }}
        >
          {(Object.keys(kindLabels) as LocationKind[]).map((k) => (
            <option key={k} value={k}>
              {kindLabels[k]}
            </option>
          ))}
        </select>
      </label>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      {parentKind[kind] && (
        <label>
          In
          <select aria-label={`In which ${parentKind[kind]}`} value={parentId} onChange={(e) => setParentId(e.target.value)}>
            <option value="">Choose a {parentKind[kind]}…</option>
            {parents.map((l) => (
              <option key={l.id} value={l.id}>
                {pathLabel(l, locations)}
              </option>
            ))}
          </select>
        </label>
      )}
    </FormDialog>
  );
}

/** Restarts the room's PC, after saying what that does to the people in it. */
export function RestartRoomButton({ room }: { room: Room }) {
  const { api } = usePlatform();
  const [asking, setAsking] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const restart = async () => {
    setAsking(false);
    setError(null);
    try {
      await api.restartRoom(room.id);
      setDone(true);
    } catch (e) {
      setError(failureOf(e));
    }
  };
  return (
    <>
      <button type="button" onClick={() => setAsking(true)} disabled={!room.online}>
        Restart device
      </button>
      {done && <p role="status">{room.name} is restarting; it shows as offline until its agent is back.</p>}
      <ErrorNote error={error} />
      {asking && (
        <Confirm
          title={`Restart ${room.name}?`}
          body={<p>The room's PC restarts now; its displays go dark for a minute or two. A restart is refused during a call or a session.</p>}
          action="Restart device"
          danger
          onCancel={() => setAsking(false)}
          onConfirm={() => void restart()}
        />
      )}
    </>
  );
}

/** A labelled choice of one location, each named by its full path, or none ("" ). */
export function LocationSelect({ label, none, locations, value, onChange }: { label: string; none: string; locations: readonly Location[]; value: string; onChange(id: string): void }) {
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)}>
        <option value="">{none}</option>
        {locations.map((l) => (
          <option key={l.id} value={l.id}>
            {pathLabel(l, locations)}
          </option>
        ))}
      </select>
    </label>
  );
}
