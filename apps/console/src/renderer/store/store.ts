import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Platform } from '../platform/connect';
import { type AuthSlice, authSlice } from './auth-slice';
import { type NavSlice, navSlice } from './nav-slice';
import { type RoomsSlice, roomsSlice } from './rooms-slice';
import { type SessionSlice, sessionSlice } from './session-slice';

export type ConsoleStore = AuthSlice & RoomsSlice & NavSlice & SessionSlice;
export type SliceCreator<T> = (set: StoreApi<ConsoleStore>['setState'], get: StoreApi<ConsoleStore>['getState'], platform: Platform) => T;

/** One store from four slices; actions live next to the state they change. */
export function createConsoleStore(platform: Platform): StoreApi<ConsoleStore> {
  return createStore<ConsoleStore>()((set, get) => ({
    ...authSlice(set, get, platform),
    ...roomsSlice(set, get, platform),
    ...navSlice(set, get, platform),
    ...sessionSlice(set, get, platform),
  }));
}

export const StoreContext = createContext<{ store: StoreApi<ConsoleStore>; platform: Platform } | null>(null);

function useContextValue() {
  const value = useContext(StoreContext);
  if (!value) throw new Error('StoreContext missing');
  return value;
}

export function useConsole<T>(selector: (state: ConsoleStore) => T): T {
  return useStore(useContextValue().store, selector);
}

export const usePlatform = (): Platform => useContextValue().platform;
