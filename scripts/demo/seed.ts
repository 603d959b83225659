import type { Location, Room, RoomInput } from '@roomlink/shared';

/** The demo organization's buildings and rooms: two buildings, two floors each, a dozen rooms with tags. */
export const demoBuildings = [
  { name: 'Oslo HQ', floors: ['Floor 1', 'Floor 4'], rooms: ['Fjord', 'Glacier', 'Aurora', 'Tundra', 'Harbor', 'Summit', 'Birch'] },
  { name: 'Bergen Office', floors: ['Floor 2', 'Floor 3'], rooms: ['Bryggen', 'Fløyen', 'Ulriken', 'Nordnes', 'Sandviken'] },
] as const;
const tagCycle = [['boardroom', 'large'], ['huddle'], ['training', 'large'], ['huddle', 'video-wall'], ['boardroom']];

export interface SeededTenant {
  locations: Location[];
  rooms: Room[];
}

type Post = <T>(path: string, body: unknown) => Promise<T>;

/** Creates the demo locations and rooms through the server's own API, as an administrator would. */
export async function seedDemoTenant(post: Post): Promise<SeededTenant> {
  const locations: Location[] = [];
  const rooms: Room[] = [];
  const region = await post<Location>('/api/locations', { name: 'Norway', kind: 'region' });
  locations.push(region);
  let n = 0;
  for (const building of demoBuildings) {
    const site = await post<Location>('/api/locations', { name: building.name, kind: 'building', parentId: region.id });
    locations.push(site);
    const floors: Location[] = [];
    for (const floor of building.floors) floors.push(await post<Location>('/api/locations', { name: floor, kind: 'floor', parentId: site.id }));
    locations.push(...floors);
    for (const [i, name] of building.rooms.entries()) {
      const input: RoomInput = { name, locationId: floors[i % floors.length]!.id, tags: tagCycle[n % tagCycle.length]!, platform: 'synthetic', license: n % 6 === 5 ? 'basic' : 'pro' };
      rooms.push(await post<Room>('/api/rooms', input));
      n += 1;
    }
  }
  return { locations, rooms };
}

/** A `Post` over fetch with a bearer token; failures throw with the server's message. */
export function apiPoster(serverUrl: string, token: string): Post {
  return async (path, body) => {
    const response = await fetch(new URL(path, serverUrl), { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json: unknown = await response.json();
    if (!response.ok) throw new Error(`${path}: ${JSON.stringify(json)}`);
    return json as never;
  };
}
