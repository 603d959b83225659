import type { Platform, Room, RoomHealth } from '@roomlink/shared';

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

const compare: Record<SortKey, (a: Room, b: Room) => number> = {
  name: (a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }),
  health: (a, b) => healthRank[a.health] - healthRank[b.health],
  location: (a, b) => locationText(a).localeCompare(locationText(b)),
  lastSeen: (a, b) => (a.lastSeenAt ?? '').localeCompare(b.lastSeenAt ?? ''),
};

/** The rooms list as shown: filtered, then sorted with name as the tie-breaker. One pass, no copies kept. */
export function visibleRooms(rooms: readonly Room[], filters: RoomFilters, sort: RoomSort): Room[] {
  const text = filters.text.trim().toLowerCase();
  const matches = rooms.filter(
    (room) =>
      (filters.health === 'all' || room.health === filters.health) &&
      (filters.platform === 'all' || room.platform === filters.platform) &&
      (filters.tag === 'all' || room.tags.includes(filters.tag)) &&
      (filters.location === 'all' || room.locationPath.some((l) => l.id === filters.location)) &&
      (text === '' || room.name.toLowerCase().includes(text) || locationText(room).toLowerCase().includes(text) || room.tags.some((t) => t.toLowerCase().includes(text))),
  );
  const primary = compare[sort.key];
  const direction = sort.descending ? -1 : 1;
  return matches.sort((a, b) => direction * primary(a, b) || compare.name(a, b));
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
    locations: [...locations].map(([id, label]) => ({ id, label })).sort((a, b) => a.label.localeCompare(b.label)),
  };
}
