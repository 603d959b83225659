import { Platform, type RemoteAccessSettings, type Room, RoomHealth, roomHealthLabels } from '@roomlink/shared';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { filterOptions, filterRooms, indexRooms, locationText, type SortKey } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { RoomDetails } from './RoomDetails';
import { AddLocationDialog, RoomDialog } from './RoomForms';
import { Ago, ErrorNote } from './ui';
import { VirtualList } from './VirtualList';

const ROW_HEIGHT = 44;
const platformLabels: Record<Platform, string> = { windows: 'Windows', x11: 'Linux (X11)', synthetic: 'Synthetic' };
const sortLabels: Record<SortKey, string> = { name: 'Name', health: 'Health', location: 'Location', lastSeen: 'Last seen' };

export function RoomsView() {
  const rooms = useConsole((s) => s.rooms);
  const filters = useConsole((s) => s.filters);
  const sort = useConsole((s) => s.sort);
  const selectedRoomId = useConsole((s) => s.selectedRoomId);
  const { setFilter, clearFilters, setSort, selectRoom, syncRooms } = useConsole(
    useShallow((s) => ({ setFilter: s.setFilter, clearFilters: s.clearFilters, setSort: s.setSort, selectRoom: s.selectRoom, syncRooms: s.syncRooms })),
  );
  const indexed = useMemo(() => indexRooms(rooms, sort), [rooms, sort]);
  const shown = useMemo(() => filterRooms(indexed, filters), [indexed, filters]);
  const options = useMemo(() => filterOptions(rooms), [rooms]);
  const search = useRef<HTMLInputElement>(null);
  const activeIndex = shown.findIndex((room) => room.id === selectedRoomId);
  const selected = rooms.find((room) => room.id === selectedRoomId) ?? null;
  const canManage = useConsole((s) => s.status?.account?.permissions.includes('rooms.manage') ?? false);
  const [adding, setAdding] = useState<'room' | 'location' | null>(null);
  const remoteAccessOff = useRemoteAccessOff();

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key === '/' && document.activeElement?.tagName !== 'INPUT') {
        event.preventDefault();
        search.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const onListKey = (event: React.KeyboardEvent) => {
    const step = event.key === 'ArrowDown' ? 1 : event.key === 'ArrowUp' ? -1 : 0;
    if (step !== 0 && shown.length > 0) {
      event.preventDefault();
      const next = shown[Math.min(shown.length - 1, Math.max(0, activeIndex + step))];
      if (next) selectRoom(next.id);
    } else if (event.key === 'Escape') selectRoom(null);
  };

  return (
    <div className={`rooms ${selected ? 'with-details' : ''}`}>
      <section className="rooms-list" onKeyDown={onListKey}>
        <div className="toolbar" role="search">
          <input ref={search} type="search" placeholder="Search rooms, locations, tags  ( / )" aria-label="Search rooms" value={filters.text} onChange={(e) => setFilter('text', e.target.value)} />
          <FilterSelect label="Health" all="All health" value={filters.health} choices={RoomHealth.options.map((h) => [h, roomHealthLabels[h]])} onChange={(v) => setFilter('health', v as RoomHealth | 'all')} />
          <FilterSelect label="Location" all="All locations" value={filters.location} choices={options.locations.map((l) => [l.id, l.label])} onChange={(v) => setFilter('location', v)} />
          <FilterSelect label="Platform" all="All platforms" value={filters.platform} choices={Platform.options.map((p) => [p, platformLabels[p]])} onChange={(v) => setFilter('platform', v as Platform | 'all')} />
          <FilterSelect label="Tag" all="All tags" value={filters.tag} choices={options.tags.map((t) => [t, t])} onChange={(v) => setFilter('tag', v)} />
          <select aria-label="Sort by" value={`${sort.key}:${sort.descending ? 'desc' : 'asc'}`} onChange={(e) => {
            const [key, dir] = e.target.value.split(':') as [SortKey, string];
            setSort({ key, descending: dir === 'desc' });
          }}>
            {(Object.keys(sortLabels) as SortKey[]).flatMap((key) => [
              <option key={`${key}:asc`} value={`${key}:asc`}>
                Sort: {sortLabels[key]} ↑
              </option>,
              <option key={`${key}:desc`} value={`${key}:desc`}>
                Sort: {sortLabels[key]} ↓
              </option>,
            ])}
          </select>
          <button type="button" onClick={clearFilters}>
            Clear
          </button>
          {canManage && (
            <>
              <button type="button" onClick={() => setAdding('location')}>
                Add location
              </button>
              <button type="button" className="primary" onClick={() => setAdding('room')}>
                Add room
              </button>
            </>
          )}
        </div>
        <SyncLine onSync={() => void syncRooms()} />
        {remoteAccessOff && (
          <p className="notice" role="status" data-testid="remote-access-off">
            Remote access is turned off for your organization: no session can start.{' '}
            {remoteAccessOff.changedBy ? (
              <>
                {remoteAccessOff.changedBy} turned it off <Ago at={remoteAccessOff.changedAt} />; ask them or another administrator to turn it on in Settings › Remote Access.
              </>
            ) : (
              'It has never been turned on: ask your Roomlink administrator to turn it on in Settings › Remote Access.'
            )}
          </p>
        )}
        <div className="room-row head" aria-hidden>
          <span>Room</span>
          <span>Health</span>
          <span>Status</span>
          <span>Location</span>
          <span>Platform</span>
          <span>Tags</span>
          <span>Remote access</span>
        </div>
        <p className="count" data-testid="room-count">
          {shown.length === rooms.length ? `${rooms.length} rooms` : `${shown.length} of ${rooms.length} rooms`}
        </p>
        {rooms.length === 0 && (
          <p className="empty" data-testid="rooms-empty">
            {canManage ? 'No rooms yet. Add one with Add room; it gets an enrollment code for its PC.' : 'No rooms are visible to you yet. An administrator adds rooms and gives you a role that reaches them.'}
          </p>
        )}
        <VirtualList items={shown} rowHeight={ROW_HEIGHT} label="Rooms" activeIndex={activeIndex} render={(room) => <RoomRow room={room} selected={room.id === selectedRoomId} onSelect={() => selectRoom(room.id)} />} />
      </section>
      {selected && <RoomDetails room={selected} />}
      {adding === 'room' && <RoomDialog onClose={() => setAdding(null)} />}
      {adding === 'location' && <AddLocationDialog onClose={() => setAdding(null)} />}
    </div>
  );
}

/** One filter menu: "all" first, then the choices as [value, label]. */
function FilterSelect({ label, all, value, choices, onChange }: { label: string; all: string; value: string; choices: [string, string][]; onChange(value: string): void }) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      <option value="all">{all}</option>
      {choices.map(([choice, text]) => (
        <option key={choice} value={choice}>
          {text}
        </option>
      ))}
    </select>
  );
}

function RoomRow({ room, selected, onSelect }: { room: Room; selected: boolean; onSelect(): void }) {
  return (
    <div className="room-row" role="option" aria-selected={selected} tabIndex={selected ? 0 : -1} data-room={room.name} onClick={onSelect} onKeyDown={(e) => e.key === 'Enter' && onSelect()}>
      <span className="name">{room.name}</span>
      <span className={`health ${room.health}`}>{roomHealthLabels[room.health]}</span>
      <span>{room.inCall ? 'In a call' : room.online ? 'Online' : 'Offline'}</span>
      <span className="location">{locationText(room) || '—'}</span>
      <span>{platformLabels[room.platform]}</span>
      <span className="tags">{room.tags.join(', ')}</span>
      <span>{room.remoteAccess !== 'none' && <span className={`badge access-${room.remoteAccess}`}>{room.remoteAccess === 'modify' ? 'Modify' : 'View'}</span>}</span>
    </div>
  );
}

function SyncLine({ onSync }: { onSync(): void }) {
  const syncedAt = useConsole((s) => s.syncedAt);
  const syncing = useConsole((s) => s.syncing);
  const error = useConsole((s) => s.syncError);
  return (
    <div className={`sync-line ${error ? 'stale' : ''}`} data-testid="sync-line">
      {syncing ? 'Refreshing…' : <>Last synced <Ago at={syncedAt} /></>}
      <button type="button" onClick={onSync} disabled={syncing}>
        Refresh
      </button>
      <ErrorNote error={error} />
    </div>
  );
}

/** Whether the tenant has remote access off: said once above the list, so a technician with a role knows why no room offers a session. */
/** The tenant's remote-access setting when it is off (who changed it last, to ask), else null. */
function useRemoteAccessOff(): RemoteAccessSettings | null {
  const { api } = usePlatform();
  const [off, setOff] = useState<RemoteAccessSettings | null>(null);
  useEffect(() => {
    api.remoteAccess().then(
      (settings) => setOff(settings.enabled ? null : settings),
      () => setOff(null),
    );
  }, [api]);
  return off;
}
