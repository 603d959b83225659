import type { SliceCreator } from './store';

export type View = 'rooms' | 'settings';
export type SettingsTab = 'remoteAccess' | 'roles' | 'locations' | 'general';

export interface NavSlice {
  view: View;
  settingsTab: SettingsTab;
  go(view: View): void;
  openSettings(tab: SettingsTab): void;
}

export const navSlice: SliceCreator<NavSlice> = (set) => ({
  view: 'rooms',
  settingsTab: 'remoteAccess',
  go: (view) => set({ view }),
  openSettings: (settingsTab) => set({ view: 'settings', settingsTab }),
});
