import type { ConsoleFailure, ConsoleStatus } from '../../api/console-api';
import { failureOf } from '../errors';
import type { SliceCreator } from './store';

export interface AuthSlice {
  status: ConsoleStatus | null;
  signingIn: boolean;
  /** The provider's page when the browser would not open a window for it: the person opens it by hand. */
  blockedSignInUrl: string | null;
  authError: ConsoleFailure | null;
  /** The browser host went away: nothing works until it is back. */
  hostLost: boolean;
  initAuth(): Promise<void>;
  signIn(): Promise<void>;
  /** Gives up the waiting sign-in (its window was closed, or the person pressed Cancel). */
  cancelSignIn(): Promise<void>;
  signOut(): Promise<void>;
}

const ROOMS_REFRESH_MS = 30_000;
/** How often a sign-in window is checked for having been closed. */
const POPUP_CHECK_MS = 500;

export const authSlice: SliceCreator<AuthSlice> = (set, get, { api, events, closed }) => ({
  status: null,
  signingIn: false,
  blockedSignInUrl: null,
  authError: null,
  hostLost: false,
  initAuth: async () => {
    events.on('status', (status) => {
      const wasSignedIn = get().status?.account;
      set({ status });
      if (status.account && !wasSignedIn) void get().loadRooms();
    });
    events.on('signIn.open', ({ url }) => {
      const popup = window.open(url, '_blank', 'popup,width=520,height=680');
      if (!popup) {
        set({ blockedSignInUrl: url });
        return;
      }
      // A closed window never finishes: the waiting sign-in ends at once instead of after its timeout.
      const watch = setInterval(() => {
        if (!get().signingIn) clearInterval(watch);
        else if (popup.closed) {
          clearInterval(watch);
          void get().cancelSignIn();
        }
      }, POPUP_CHECK_MS);
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
    set({ signingIn: true, authError: null, blockedSignInUrl: null });
    try {
      set({ status: await api.signIn() });
    } catch (error) {
      set({ authError: failureOf(error) });
    } finally {
      set({ signingIn: false, blockedSignInUrl: null });
    }
  },
  cancelSignIn: async () => {
    await api.cancelSignIn();
  },
  signOut: async () => {
    get().endSession();
    set({ status: await api.signOut(), rooms: [], syncedAt: null, selectedRoomId: null, view: 'rooms' });
  },
});
