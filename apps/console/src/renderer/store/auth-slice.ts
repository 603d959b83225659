import type { ConsoleFailure, ConsoleStatus } from '../../api/console-api';
import { failureOf } from '../errors';
import type { SliceCreator } from './store';

export interface AuthSlice {
  status: ConsoleStatus | null;
  signingIn: boolean;
  authError: ConsoleFailure | null;
  /** The browser host went away: nothing works until it is back. */
  hostLost: boolean;
  initAuth(): Promise<void>;
  signIn(): Promise<void>;
  signOut(): Promise<void>;
}

const ROOMS_REFRESH_MS = 30_000;

export const authSlice: SliceCreator<AuthSlice> = (set, get, { api, events, closed }) => ({
  status: null,
  signingIn: false,
  authError: null,
  hostLost: false,
  initAuth: async () => {
    events.on('status', (status) => {
      const wasSignedIn = get().status?.account;
      set({ status });
      if (status.account && !wasSignedIn) void get().loadRooms();
    });
    events.on('signIn.open', ({ url }) => {
      window.open(url, '_blank', 'popup,width=520,height=680');
    });
    void closed.then(() => set({ hostLost: true }));
    // Presence, calls and health change all day: refresh the list while someone is signed in.
    setInterval(() => {
      if (get().status?.account && !get().syncing) void get().syncRooms();
    }, ROOMS_REFRESH_MS);
    const status = await api.status();
    set({ status });
    if (status.account) await get().loadRooms();
  },
  signIn: async () => {
    set({ signingIn: true, authError: null });
    try {
      set({ status: await api.signIn() });
    } catch (error) {
      set({ authError: failureOf(error) });
    } finally {
      set({ signingIn: false });
    }
  },
  signOut: async () => {
    get().endSession();
    set({ status: await api.signOut(), rooms: [], syncedAt: null, selectedRoomId: null, view: 'rooms' });
  },
});
