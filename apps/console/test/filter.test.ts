import type { Location, LocationId, Room, RoomId } from '@roomlink/shared';
import { describe, expect, it } from 'vitest';
import { filterOptions, filterRooms, indexRooms, noFilters, type RoomFilters } from '../src/renderer/rooms/filter';

const location = (id: string, name: string, kind: Location['kind']): Location => ({ id: id as LocationId, name, kind, parentId: null });
const oslo = location('l-oslo', 'Oslo HQ', 'building');
const floor4 = location('l-oslo-4', 'Floor 4', 'floor');
const bergen = location('l-bergen', 'Bergen Office', 'building');

function room(name: string, patch: Partial<Room> = {}): Room {
  return {
    id: `r-${name}` as RoomId,
    name,
    locationId: null,
    locationPath: [],
    tags: [],
    platform: 'windows',
    license: 'pro',
    enrolled: true,
    online: true,
    monitored: true,
    inCall: false,
    health: 'healthy',
    signals: null,
    displays: [],
    lastSeenAt: null,
    remoteAccess: 'none',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...patch,
  };
}

const rooms = [
  room('Room 10', { locationPath: [oslo, floor4], tags: ['huddle'] }),
  room('Room 2', { locationPath: [bergen], health: 'critical', platform: 'x11' }),
  room('Fjord', { locationPath: [oslo], health: 'offline', tags: ['Boardroom'] }),
  room('room 1', { health: 'nonUrgent' }),
];
const names = (list: Room[]) => list.map((r) => r.name);
const shown = (filters: Partial<RoomFilters>, sort = { key: 'name' as const, descending: false }) => names(filterRooms(indexRooms(rooms, sort), { ...noFilters, ...filters }));

describe('rooms list filtering and sorting', () => {
  it('sorts names as people read numbers, ignoring case', () => {
    expect(shown({})).toEqual(['Fjord', 'room 1', 'Room 2', 'Room 10']);
    expect(shown({}, { key: 'name', descending: true } as never)).toEqual(['Room 10', 'Room 2', 'room 1', 'Fjord']);
  });

  it('puts the worst health first, then by name', () => {
    expect(shown({}, { key: 'health', descending: false } as never)).toEqual(['Room 2', 'Fjord', 'room 1', 'Room 10']);
  });

  it('searches name, location and tags without regard to case', () => {
    expect(shown({ text: 'FLOOR 4' })).toEqual(['Room 10']);
    expect(shown({ text: 'boardroom' })).toEqual(['Fjord']);
    expect(shown({ text: ' room 1 ' })).toEqual(['room 1', 'Room 10']);
    expect(shown({ text: 'nothing like it' })).toEqual([]);
  });

  it('matches a building for the rooms on its floors, and combines filters', () => {
    expect(shown({ location: oslo.id })).toEqual(['Fjord', 'Room 10']);
    expect(shown({ location: oslo.id, tag: 'huddle' })).toEqual(['Room 10']);
    expect(shown({ health: 'critical', platform: 'x11' })).toEqual(['Room 2']);
    expect(shown({ health: 'critical', platform: 'windows' })).toEqual([]);
  });

  it('offers the tags and locations that occur, locations with their path', () => {
    expect(filterOptions(rooms)).toEqual({
      tags: ['Boardroom', 'huddle'],
      locations: [
        { id: 'l-bergen', label: 'Bergen Office' },
        { id: 'l-oslo', label: 'Oslo HQ' },
        { id: 'l-oslo-4', label: 'Oslo HQ › Floor 4' },
      ],
    });
  });
});
