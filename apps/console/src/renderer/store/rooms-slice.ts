import type { Room, RoomId } from '@roomlink/shared';
import type { ConsoleEvents, ConsoleFailure } from '../../api/console-api';
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
  loadRooms(): Promise<void>;
  syncRooms(): Promise<void>;
  /** A room's live state, as the server pushed it: the room changes in place. */
  applyRoomState(state: ConsoleEvents['room.state']): void;
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
  loadRooms: async () => {
    try {
      set(await api.cachedRooms());
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
  applyRoomState: ({ roomId, ...state }) =>
    set((current) => {
      const index = current.rooms.findIndex((room) => room.id === roomId);
      if (index < 0) return {};
      const rooms = [...current.rooms];
      rooms[index] = { ...rooms[index]!, ...state };
      return { rooms };
    }),
  setFilter: (key, value) => set((state) => ({ filters: { ...state.filters, [key]: value } })),
  clearFilters: () => set({ filters: noFilters }),
  setSort: (sort) => set({ sort }),
  selectRoom: (selectedRoomId) => set({ selectedRoomId }),
});
