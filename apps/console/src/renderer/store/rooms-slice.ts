import type { Room, RoomId } from '@roomlink/shared';
import type { ConsoleEvents, ConsoleFailure, RoomsSnapshot } from '../../api/console-api';
import { failureOf } from '../errors';
import { noFilters, type RoomFilters, type RoomSort } from '../rooms/filter';
import type { SliceCreator } from './store';

export interface RoomsSlice {
  rooms: Room[];
  /** When the rooms were last fetched from the server. */
  syncedAt: string | null;
  syncing: boolean;
  /** Set when the last sync failed: the list shows the cache, marked. */
  syncError: ConsoleFailure | null;
  filters: RoomFilters;
  sort: RoomSort;
  selectedRoomId: RoomId | null;
  /** Shows the cached rooms (`cached`, when already fetched), then syncs with the server. */
  loadRooms(cached?: RoomsSnapshot | null): Promise<void>;
  syncRooms(): Promise<void>;
  /** Rooms' live states, as the server pushed them: the rooms change in place, in one update however many there are. */
  applyRoomStates(states: ConsoleEvents['room.states']): void;
  setFilter<K extends keyof RoomFilters>(key: K, value: RoomFilters[K]): void;
  clearFilters(): void;
  setSort(sort: RoomSort): void;
  selectRoom(roomId: RoomId | null): void;
}

export const roomsSlice: SliceCreator<RoomsSlice> = (set, get, { api }) => ({
  rooms: [],
  syncedAt: null,
  syncing: false,
  syncError: null,
  filters: noFilters,
  sort: { key: 'name', descending: false },
  selectedRoomId: null,
  loadRooms: async (cached) => {
    try {
      set(cached ?? (await api.cachedRooms()));
    } catch (error) {
      set({ syncError: failureOf(error) });
    }
    await get().syncRooms();
  },
  syncRooms: async () => {
    set({ syncing: true });
    try {
      set({ ...(await api.syncRooms()), syncError: null });
    } catch (error) {
      set({ syncError: failureOf(error) });
    } finally {
      set({ syncing: false });
    }
  },
  applyRoomStates: (states) =>
    set((current) => {
      const byId = new Map(states.map(({ roomId, ...state }) => [roomId as string, state]));
      let changed = false;
      const rooms = current.rooms.map((room) => {
        const state = byId.get(room.id);
        if (!state) return room;
        changed = true;
        return { ...room, ...state };
      });
      return changed ? { rooms } : {};
    }),
  setFilter: (key, value) => set((state) => ({ filters: { ...state.filters, [key]: value } })),
  clearFilters: () => set({ filters: noFilters }),
  setSort: (sort) => set({ sort }),
  selectRoom: (selectedRoomId) => set({ selectedRoomId }),
});
