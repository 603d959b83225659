import { nameOrder, type Location, type Platform, type Room, type RoomHealth } from '@roomlink/shared';

export interface RoomFilters {
  text: string;
  health: RoomHealth | 'all';
  /** A location id: matches rooms anywhere below it (building matches its floors). */
  location: string | 'all';
  platform: Platform | 'all';
  tag: string | 'all';
}

export const noFilters: RoomFilters = { text: '', health: 'all', location: 'all', platform: 'all', tag: 'all' };

export type SortKey = 'name' | 'health' | 'location' | 'lastSeen';
export interface RoomSort {
  key: SortKey;
  descending: boolean;
}

/** Worst first when sorting by health, which is what a technician scanning the list wants. */
const healthRank: Record<RoomHealth, number> = { critical: 0, offline: 1, nonUrgent: 2, healthy: 3 };

export const locationText = (room: Room) => room.locationPath.map((l) => l.name).join(' › ');

/** A location's name with the ones above it, "Norway › Oslo HQ › Floor 3": a flat list of floors says nothing. */
export function pathLabel(location: Location, all: readonly Location[]): string {
  const names = [location.name];
  for (let parent = all.find((l) => l.id === location.parentId); parent; parent = all.find((l) => l.id === parent!.parentId)) names.unshift(parent.name);
  return names.join(' › ');
}


/** A room with what sorting and searching need, computed once per sync rather than once per keystroke. */
export interface IndexedRoom {
  room: Room;
  location: string;
  /** Name, location and tags, lower case. */
  haystack: string;
}

const compare: Record<SortKey, (a: IndexedRoom, b: IndexedRoom) => number> = {
  name: (a, b) => nameOrder.compare(a.room.name, b.room.name),
  health: (a, b) => healthRank[a.room.health] - healthRank[b.room.health],
  location: (a, b) => nameOrder.compare(a.location, b.location),
  // ISO times sort as plain strings; never seen sorts first.
  lastSeen: (a, b) => ((a.room.lastSeenAt ?? '') < (b.room.lastSeenAt ?? '') ? -1 : (a.room.lastSeenAt ?? '') > (b.room.lastSeenAt ?? '') ? 1 : 0),
};

/** The rooms in display order, name breaking ties; filtering keeps this order, so a keystroke never sorts. */
export function indexRooms(rooms: readonly Room[], sort: RoomSort): IndexedRoom[] {
  const direction = sort.descending ? -1 : 1;
  const primary = compare[sort.key];
  return rooms
    .map((room) => {
      const location = locationText(room);
      return { room, location, haystack: `${room.name}\n${location}\n${room.tags.join('\n')}`.toLowerCase() };
    })
    .sort((a, b) => direction * primary(a, b) || compare.name(a, b));
}

/** The rooms that pass the filters, in the index's order. */
export function filterRooms(indexed: readonly IndexedRoom[], filters: RoomFilters): Room[] {
  const text = filters.text.trim().toLowerCase();
  const shown: Room[] = [];
  for (const { room, haystack } of indexed) {
    if (filters.health !== 'all' && room.health !== filters.health) continue;
    if (filters.platform !== 'all' && room.platform !== filters.platform) continue;
    if (filters.tag !== 'all' && !room.tags.includes(filters.tag)) continue;
    if (filters.location !== 'all' && !room.locationPath.some((l) => l.id === filters.location)) continue;
    if (text !== '' && !haystack.includes(text)) continue;
    shown.push(room);
  }
  return shown;
}

/** Tags and locations that occur in the rooms, for the filter menus. */
export function filterOptions(rooms: readonly Room[]): { tags: string[]; locations: { id: string; label: string }[] } {
  const tags = new Set<string>();
  const locations = new Map<string, string>();
  for (const room of rooms) {
    for (const tag of room.tags) tags.add(tag);
    room.locationPath.forEach((location, depth) => {
      if (!locations.has(location.id))
        locations.set(
          location.id,
          room.locationPath
            .slice(0, depth + 1)
            .map((l) => l.name)
            .join(' › '),
        );
    });
  }
  return {
    tags: [...tags].sort(),
    locations: [...locations].map(([id, label]) => ({ id, label })).sort((a, b) => nameOrder.compare(a.label, b.label)),
  };
}
