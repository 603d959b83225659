import type { Location, LocationKind } from '@roomlink/shared';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { pathLabel } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { AddLocationDialog, ParentSelect, parentKind } from './RoomForms';
import { Confirm, ErrorNote, FormDialog } from './ui';

interface Node {
  location: Location;
  children: Node[];
  /** Rooms here or anywhere beneath. */
  rooms: number;
}

function tree(locations: readonly Location[], roomsAt: (id: string) => number): Node[] {
  const build = (parentId: string | null): Node[] =>
    locations
      .filter((l) => l.parentId === parentId)
      .map((location) => {
        const children = build(location.id);
        return { location, children, rooms: roomsAt(location.id) };
      });
  return build(null);
}

/**
 * Regions, buildings and floors as the tree they are: rename, move (a
 * building to another region, a floor to another building) and delete when
 * empty. The server decides what the user may change; its refusals show here.
 */
export function LocationsPanel() {
  const { api } = usePlatform();
  const rooms = useConsole((s) => s.rooms);
  const syncRooms = useConsole((s) => s.syncRooms);
  const [locations, setLocations] = useState<Location[]>([]);
  const [editing, setEditing] = useState<Location | null>(null);
  const [deleting, setDeleting] = useState<Location | null>(null);
  const [adding, setAdding] = useState(false);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => api.locations().then(setLocations, (e: unknown) => setError(failureOf(e))), [api]);
  useEffect(() => void load(), [load]);
  const nodes = useMemo(() => tree(locations, (id) => rooms.filter((r) => r.locationPath.some((l) => l.id === id)).length), [locations, rooms]);
  const changed = () => {
    void load();
    void syncRooms();
  };

  const remove = async (location: Location) => {
    setDeleting(null);
    setError(null);
    try {
      await api.deleteLocation(location.id);
      changed();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  const row = (node: Node) => (
    <li key={node.location.id}>
      <div className="location-row" data-testid={`location-${node.location.name}`}>
        <span className="location-name">{node.location.name}</span>
        <span className="hint">
          {kindLabels[node.location.kind]} · {node.rooms} room{node.rooms === 1 ? '' : 's'}
        </span>
        <button type="button" onClick={() => setEditing(node.location)}>
          {node.location.kind === 'region' ? 'Rename' : 'Rename or move'}
        </button>
        <button type="button" className="danger" onClick={() => setDeleting(node.location)}>
          Delete
        </button>
      </div>
      {node.children.length > 0 && <ul>{node.children.map(row)}</ul>}
    </li>
  );

  return (
    <section role="tabpanel" aria-label="Locations" className="panel">
      <h2>Locations</h2>
      <p className="hint">Regions hold buildings, buildings hold floors. Moving a location moves its rooms with it; a location can be deleted once it holds nothing and no role names it.</p>
      <button type="button" className="primary" onClick={() => setAdding(true)}>
        Add location
      </button>
      <ErrorNote error={error} />
      {nodes.length === 0 ? <p className="empty">No locations yet. Add a region first, then its buildings and floors.</p> : <ul className="location-tree">{nodes.map(row)}</ul>}
      {adding && (
        <AddLocationDialog
          onClose={() => {
            setAdding(false);
            changed();
          }}
        />
      )}
      {editing && (
        <EditLocationDialog
          location={editing}
          locations={locations}
          onClose={(saved) => {
            setEditing(null);
            if (saved) changed();
          }}
        />
      )}
      {deleting && (
        <Confirm
          title={`Delete ${deleting.name}?`}
          body={<p>{pathLabel(deleting, locations)} is removed from the directory. This is refused while it holds locations or rooms, or a role names it.</p>}
          action="Delete"
          danger
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting)}
        />
      )}
    </section>
  );
}

const kindLabels: Record<LocationKind, string> = { region: 'Region', building: 'Building', floor: 'Floor' };

function EditLocationDialog({ location, locations, onClose }: { location: Location; locations: readonly Location[]; onClose(saved: boolean): void }) {
  const { api } = usePlatform();
  const [name, setName] = useState(location.name);
  const [parentId, setParentId] = useState<string>(location.parentId ?? '');
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const wanted = parentKind[location.kind];
  const save = async () => {
    try {
      await api.updateLocation(location.id, {
        ...(name.trim() !== location.name && { name: name.trim() }),
        ...(wanted && parentId !== location.parentId && { parentId: parentId as Location['id'] }),
      });
      onClose(true);
    } catch (e) {
      setError(failureOf(e));
    }
  };
  return (
    <FormDialog title={`Change ${location.name}`} error={error} action="Save" canAct={name.trim().length > 0} onAct={() => void save()} onClose={() => onClose(false)}>
      <label>
        Name
        <input value={name} onChange={(e) => setName(e.target.value)} autoFocus />
      </label>
      <ParentSelect kind={location.kind} locations={locations} value={parentId} onChange={setParentId} />
    </FormDialog>
  );
}
