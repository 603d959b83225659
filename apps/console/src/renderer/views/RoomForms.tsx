import type { EnrollmentCode, Location, LocationKind, Platform, Room } from '@roomlink/shared';
import { useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { pathLabel } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { RoomLogs } from './RoomLogs';
import { RoomReturn } from './RoomReturn';
import { Confirm, Dialog, ErrorNote, FormDialog } from './ui';

const platformChoices: [Platform, string][] = [
  ['windows', 'Windows (Teams Rooms)'],
  ['x11', 'Linux (X11)'],
];

/**
 * A new room, then its enrollment code: what an administrator does before
 * installing the agent on the room's PC. With `room`, the same form edits
 * it (name, location, tags, licence). The server decides where the caller
 * may put a room; a refusal is shown as it comes.
 */
export function RoomDialog({ room, onClose }: { room?: Room; onClose(): void }) {
  const { api } = usePlatform();
  const syncRooms = useConsole((s) => s.syncRooms);
  const knownTags = useConsole((s) => [...new Set(s.rooms.flatMap((r) => r.tags))].sort().join('\n'));
  const [locations, setLocations] = useState<Location[]>([]);
  const [name, setName] = useState(room?.name ?? '');
  const [locationId, setLocationId] = useState<string>(room?.locationId ?? '');
  const [tags, setTags] = useState(room?.tags.join(', ') ?? '');
  const [platform, setPlatform] = useState<Platform>('windows');
  const [license, setLicense] = useState<'pro' | 'basic'>(room?.license ?? 'pro');
  const [created, setCreated] = useState<{ room: Room; code: EnrollmentCode } | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => void api.locations().then(setLocations, (e: unknown) => setError(failureOf(e))), [api]);

  const save = async () => {
    const fields = { name: name.trim(), locationId: (locationId || null) as Room['locationId'], tags: [...new Set(tags.split(',').map((t) => t.trim()).filter(Boolean))], license };
    try {
      if (room) {
        await api.updateRoom(room.id, fields);
        void syncRooms();
        onClose();
        return;
      }
      const added = await api.createRoom({ ...fields, platform });
      setCreated({ room: added, code: await api.enrollmentCode(added.id) });
      void syncRooms();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  if (created) return <EnrollmentCodeDialog room={created.room} code={created.code} onClose={onClose} />;
  return (
    <FormDialog title={room ? `Edit ${room.name}` : 'Add a room'} error={error} action={room ? 'Save' : 'Add room'} canAct={name.trim().length > 0} onAct={() => void save()} onClose={onClose}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <LocationSelect label="Location" none="No location" locations={locations} value={locationId} onChange={setLocationId} />
      <label>
        Tags (comma separated)
        <input value={tags} onChange={(e) => setTags(e.target.value)} list="known-tags" />
      </label>
      <datalist id="known-tags">
        {knownTags.split('\n').filter(Boolean).map((tag) => (
          <option key={tag} value={tag} />
        ))}
      </datalist>
      {!room && (
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
      )}
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

/**
 * What a room manager does to a room from its details: edit it, issue a
 * code, restart it, revoke its device, retire it. Each asks first where it
 * cannot be undone, and the server checks the permission again.
 */
export function RoomAdminActions({ room }: { room: Room }) {
  const { api } = usePlatform();
  const syncRooms = useConsole((s) => s.syncRooms);
  const selectRoom = useConsole((s) => s.selectRoom);
  const [open, setOpen] = useState<'edit' | 'retire' | 'revoke' | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const act = async (run: () => Promise<unknown>) => {
    setOpen(null);
    setError(null);
    try {
      await run();
      await syncRooms();
    } catch (e) {
      setError(failureOf(e));
    }
  };
  return (
    <div className="actions">
      <button type="button" onClick={() => setOpen('edit')}>
        Edit room
      </button>
      <RestartRoomButton room={room} />
      <EnrollmentCodeButton room={room} />
      {room.enrolled && (
        <button type="button" onClick={() => setOpen('revoke')}>
          Revoke device
        </button>
      )}
      <button type="button" className="danger" onClick={() => setOpen('retire')}>
        Retire room
      </button>
      <ErrorNote error={error} />
      <RoomLogs room={room} />
      {open === 'edit' && <RoomDialog room={room} onClose={() => setOpen(null)} />}
      {open === 'revoke' && (
        <Confirm
          title={`Revoke ${room.name}'s device?`}
          body={<p>The room's PC is disconnected and can no longer prove it is this room. To bring it back, issue a new enrollment code and enroll it again.</p>}
          action="Revoke device"
          danger
          onCancel={() => setOpen(null)}
          onConfirm={() => void act(() => api.revokeDevice(room.id))}
        />
      )}
      {open === 'retire' && (
        <Confirm
          title={`Retire ${room.name}?`}
          body={<p>The room leaves the directory and role assignments, and its device is disconnected. Its sessions and audit records are kept.</p>}
          action="Retire room"
          danger
          onCancel={() => setOpen(null)}
          onConfirm={() =>
            void act(async () => {
              await api.retireRoom(room.id);
              selectRoom(null);
            })
          }
        />
      )}
    </div>
  );
}

/** The code and the one command that enrolls the room's PC with it. */
export function EnrollmentCodeDialog({ room, code, onClose }: { room: Room; code: EnrollmentCode; onClose(): void }) {
  const serverUrl = useConsole((s) => s.status?.serverUrl ?? '');
  const [copied, setCopied] = useState(false);
  const command = `npm run agent -- enroll --server ${serverUrl} --code ${code.code}`;
  return (
    <Dialog title={`Enroll ${room.name}`} onClose={onClose}>
      <h2>Enroll {room.name}</h2>
      <div className="dialog-body">
        <p>
          Enrollment code: <code data-testid="enrollment-code">{code.code}</code>, usable once until {new Date(code.expiresAt).toLocaleString()}.
        </p>
        <p>On the room's PC, with the Roomlink agent installed, run:</p>
        <pre data-testid="enroll-command">{command}</pre>
        <button type="button" onClick={() => void navigator.clipboard.writeText(command).then(() => setCopied(true), () => setCopied(false))}>
          Copy command
        </button>
        {copied && <span role="status"> Copied.</span>}
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

/** What each kind of location sits inside: the only nesting the directory accepts. */
export const parentKind: Record<LocationKind, LocationKind | null> = { region: null, building: 'region', floor: 'building' };
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
      {parentKind[kind] && <ParentSelect kind={kind} locations={locations} value={parentId} onChange={setParentId} choose />}
    </FormDialog>
  );
}

/** Where a location of `kind` sits: a location of its parent kind, each named by its full path. `choose`: start with no choice made. */
export function ParentSelect({ kind, locations, value, onChange, choose = false }: { kind: LocationKind; locations: readonly Location[]; value: string; onChange(id: string): void; choose?: boolean }) {
  const wanted = parentKind[kind];
  if (!wanted) return null;
  return (
    <label>
      In
      <select aria-label={`In which ${wanted}`} value={value} onChange={(e) => onChange(e.target.value)}>
        {choose && <option value="">Choose a {wanted}…</option>}
        {locations
          .filter((l) => l.kind === wanted)
          .map((l) => (
            <option key={l.id} value={l.id}>
              {pathLabel(l, locations)}
            </option>
          ))}
      </select>
    </label>
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
      {done && <RoomReturn roomId={room.id} roomName={room.name} />}
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
