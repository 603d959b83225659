import type { IncidentSeverity } from '@roomlink/shared';
import type { SliceCreator } from './store';

export type View = 'dashboard' | 'rooms' | 'incidents' | 'settings';
export type SettingsTab = 'remoteAccess' | 'roles' | 'locations' | 'alerts' | 'general';

export interface NavSlice {
  view: View;
  settingsTab: SettingsTab;
  /** The severity the incidents list opens filtered by (from a dashboard number). */
  incidentSeverity: IncidentSeverity | null;
  go(view: View): void;
  openSettings(tab: SettingsTab): void;
  openIncidents(severity: IncidentSeverity | null): void;
}

export const navSlice: SliceCreator<NavSlice> = (set) => ({
  view: 'rooms',
  settingsTab: 'remoteAccess',
  incidentSeverity: null,
  go: (view) => set({ view, incidentSeverity: null }),
  openIncidents: (incidentSeverity) => set({ view: 'incidents', incidentSeverity }),
  openSettings: (settingsTab) => set({ view: 'settings', settingsTab }),
});
