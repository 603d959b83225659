import type { RemoteAccessSettings } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import type { SettingsTab } from '../store/nav-slice';
import { useConsole, usePlatform } from '../store/store';
import { AlertsPanel } from './AlertsPanel';
import { AuditPanel } from './AuditPanel';
import { LocationsPanel } from './LocationsPanel';
import { RolesPanel } from './RolesPanel';
import { Ago, Confirm, ErrorNote } from './ui';

const tabLabels: Record<SettingsTab, string> = { remoteAccess: 'Remote Access', roles: 'Roles', locations: 'Locations', alerts: 'Alerts', general: 'General' };

export function SettingsView() {
  const account = useConsole((s) => s.status?.account ?? null);
  const chosen = useConsole((s) => s.settingsTab);
  const openSettings = useConsole((s) => s.openSettings);
  // Only what the user may use: everyone reads whether remote access is on; the rest follows their permissions.
  const allowed: Record<SettingsTab, boolean> = {
    remoteAccess: true,
    roles: account?.canManageRoles ?? false,
    locations: account?.permissions.includes('rooms.manage') ?? false,
    alerts: account?.permissions.includes('settings.manage') ?? false,
    general: account?.permissions.includes('audit.read') ?? false,
  };
  const tabs = (Object.keys(tabLabels) as SettingsTab[]).filter((id) => allowed[id]);
  const tab = allowed[chosen] ? chosen : 'remoteAccess';
  return (
    <div className="settings">
      <div role="tablist" aria-label="Settings">
        {tabs.map((id) => (
          <button key={id} role="tab" type="button" aria-selected={tab === id} onClick={() => openSettings(id)}>
            {tabLabels[id]}
          </button>
        ))}
      </div>
      {tab === 'remoteAccess' && <RemoteAccessPanel />}
      {tab === 'roles' && <RolesPanel />}
      {tab === 'locations' && <LocationsPanel />}
      {tab === 'alerts' && <AlertsPanel />}
      {tab === 'general' && <AuditPanel />}
    </div>
  );
}

function RemoteAccessPanel() {
  const { api } = usePlatform();
  const canManage = useConsole((s) => s.status?.account?.permissions.includes('settings.manage') ?? false);
  const [settings, setSettings] = useState<RemoteAccessSettings | null>(null);
  const [email, setEmail] = useState('');
  const [confirm, setConfirm] = useState<'enable' | 'disable' | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => api.remoteAccess().then(setSettings, (e: unknown) => setError(failureOf(e))), [api]);
  useEffect(() => void load(), [load]);

  const setPointer = async (enabled: boolean) => {
    setError(null);
    try {
      setSettings(await api.setPointerControl({ enabled }));
    } catch (e) {
      setError(failureOf(e));
    }
  };
  const apply = async (enabled: boolean) => {
    setConfirm(null);
    setError(null);
    try {
      setSettings(await api.setRemoteAccess(enabled ? { enabled: true, acknowledgingEmail: email.trim() } : { enabled: false }));
      setEmail('');
    } catch (e) {
      setError(failureOf(e));
    }
  };

  if (!settings) return <ErrorNote error={error} />;
  return (
    <section role="tabpanel" aria-label="Remote Access" className="panel">
      <h2>Remote Access</h2>
      <p data-testid="remote-access-state">
        Remote access is <b>{settings.enabled ? 'on' : 'off'}</b> for your organization.
        {settings.changedBy && (
          <>
            {' '}
            {settings.enabled ? 'Enabled' : 'Disabled'} by {settings.changedBy} <Ago at={settings.changedAt} />
            {settings.enabled && settings.acknowledgedBy && <> (acknowledged by {settings.acknowledgedBy})</>}.
          </>
        )}
      </p>
      <p className="hint">When it is on, technicians whose custom roles carry Remote Access View or Modify can connect to the rooms assigned to them. Every session is audited and shows a red ring in the room.</p>
      {!canManage && <p className="hint">Only administrators can change this setting.</p>}
      {canManage && !settings.enabled && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setConfirm('enable');
          }}
        >
          <label>
            Acknowledging administrator's email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} placeholder="admin@example.com" />
          </label>
          <button type="submit" className="primary">
            Enable remote access
          </button>
        </form>
      )}
      {canManage && settings.enabled && (
        <button type="button" className="danger" onClick={() => setConfirm('disable')}>
          Disable remote access
        </button>
      )}
      <h3>Pointer control</h3>
      <p data-testid="pointer-control-state">
        Pointer control is <b>{settings.pointerControl ? 'on' : 'off'}</b>. {settings.pointerControl ? 'In Modify sessions, the technician’s mouse and touch drive the room’s pointer, and the audit counts pointer events beside keys.' : 'Modify sessions send the keyboard only, as the room expects by default.'}
      </p>
      {canManage && (
        <button type="button" onClick={() => void setPointer(!settings.pointerControl)}>
          {settings.pointerControl ? 'Turn pointer control off' : 'Turn pointer control on'}
        </button>
      )}
      <ErrorNote error={error} />
      {confirm && (
        <Confirm
          title={confirm === 'enable' ? 'Enable remote access?' : 'Disable remote access?'}
          body={
            confirm === 'enable' ? (
              <p>
                Technicians with a remote-access role will be able to see, and with Modify control, your meeting rooms. You acknowledge this as <b>{email}</b>.
              </p>
            ) : (
              <p>No new sessions can start, and sessions already running end at once; each technician is told why.</p>
            )
          }
          action={confirm === 'enable' ? 'Enable' : 'Disable'}
          danger={confirm === 'disable'}
          onCancel={() => setConfirm(null)}
          onConfirm={() => void apply(confirm === 'enable')}
        />
      )}
    </section>
  );
}
