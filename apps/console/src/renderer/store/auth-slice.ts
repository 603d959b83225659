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
      const previous = get().status;
      set({ status });
      if (status.account && !previous?.account) void get().loadRooms();
      // Changes pushed while the hub was down are lost: catch up once it is back, instead of polling.
      else if (status.account && status.connection === 'connected' && previous?.connection !== 'connected') void get().syncRooms();
    });
    events.on('room.states', (states) => get().applyRoomStates(states));
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
    // The cached rooms are asked for with the status, not after it: the host reads them while the page renders.
    const [status, cached] = await Promise.all([api.status(), api.cachedRooms().catch(() => null)]);
    set({ status });
    if (status.account) await get().loadRooms(cached);
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
