import type { Location, RoleView } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { useConsole, usePlatform } from '../store/store';
import { permissionLabels, RoleWizard } from './RoleWizard';
import { LocationSelect } from './RoomForms';
import { TokenPicker, usePrincipals } from './pickers';
import { Confirm, ErrorNote } from './ui';

export function RolesPanel() {
  const { api } = usePlatform();
  const canManage = useConsole((s) => s.status?.account?.canManageRoles ?? false);
  const isAdmin = useConsole((s) => s.status?.account?.isGlobalAdministrator ?? false);
  const [assigning, setAssigning] = useState<RoleView | null>(null);
  const [roles, setRoles] = useState<RoleView[] | null>(null);
  const [editing, setEditing] = useState<RoleView | 'new' | null>(null);
  const [deleting, setDeleting] = useState<RoleView | null>(null);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const load = useCallback(() => api.roles().then(setRoles, (e: unknown) => setError(failureOf(e))), [api]);
  useEffect(() => void load(), [load]);

  const remove = async (role: RoleView) => {
    setDeleting(null);
    try {
      await api.deleteRole(role.id);
      await load();
    } catch (e) {
      setError(failureOf(e));
    }
  };

  if (assigning)
    return (
      <ProManagers
        role={assigning}
        onDone={() => {
          setAssigning(null);
          void load();
        }}
      />
    );
  if (editing)
    return (
      <RoleWizard
        role={editing === 'new' ? null : editing}
        onDone={() => {
          setEditing(null);
          void load();
        }}
      />
    );
  return (
    <section role="tabpanel" aria-label="Roles" className="panel">
      <h2>Roles</h2>
      <p className="hint">Built-in roles never carry remote access. A custom role with Remote Access View or Modify, assigned to people and rooms, is the only way to grant it.</p>
      {canManage ? (
        <button type="button" className="primary" onClick={() => setEditing('new')}>
          New custom role
        </button>
      ) : (
        <p className="hint">Only Global Administrators and Pro Managers can create, edit or assign custom roles.</p>
      )}
      <ErrorNote error={error} />
      <table className="grid">
        <thead>
          <tr>
            <th>Role</th>
            <th>Type</th>
            <th>Permissions</th>
            <th>Assignments</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {(roles ?? []).map((role) => (
            <tr key={role.id} data-role={role.name}>
              <td>
                <b>{role.name}</b>
                <div className="hint">{role.description}</div>
              </td>
              <td>{role.builtIn ? 'Built-in' : 'Custom'}</td>
              <td>{role.permissions.map((p) => permissionLabels[p]).join(', ')}</td>
              <td>{role.assignments.length}</td>
              <td>
                {isAdmin && role.id === PRO_MANAGER && (
                  <button type="button" onClick={() => setAssigning(role)}>
                    Assign
                  </button>
                )}
                {canManage && !role.builtIn && (
                  <>
                    <button type="button" onClick={() => setEditing(role)}>
                      Edit
                    </button>
                    <button type="button" className="danger" onClick={() => setDeleting(role)}>
                      Delete
                    </button>
                  </>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting && (
        <Confirm
          title={`Delete ${deleting.name}?`}
          body={<p>Everyone who has access through this role loses it now.</p>}
          action="Delete role"
          danger
          onCancel={() => setDeleting(null)}
          onConfirm={() => void remove(deleting)}
        />
      )}
    </section>
  );
}

const PRO_MANAGER = 'pro-manager';
interface Holder {
  users: string[];
  groups: string[];
  /** A location id, or '' for the whole organization. */
  location: string;
}

/**
 * Who are Pro Managers, and where: a Global Administrator's form. A Pro
 * Manager manages roles, only inside the location given here.
 */
function ProManagers({ role, onDone }: { role: RoleView; onDone(): void }) {
  const { api } = usePlatform();
  const [holders, setHolders] = useState<Holder[]>(role.assignments.map((a) => ({ users: a.users, groups: a.groups, location: a.locations[0] ?? '' })));
  const principals = usePrincipals();
  const [locations, setLocations] = useState<Location[]>([]);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  useEffect(() => void api.locations().then(setLocations, (e: unknown) => setError(failureOf(e))), [api]);
  const change = (index: number, patch: Partial<Holder>) => setHolders(holders.map((h, i) => (i === index ? { ...h, ...patch } : h)));
  const save = async () => {
    try {
      const assignments = holders
        .map((h) => ({ users: h.users, groups: h.groups, locations: h.location ? [h.location] : [] }))
        .filter((a) => a.users.length > 0 || a.groups.length > 0);
      await api.assignBuiltInRole(role.id, assignments);
      onDone();
    } catch (e) {
      setError(failureOf(e));
    }
  };
  return (
    <section role="tabpanel" aria-label="Pro Managers" className="panel">
      <h2>Pro Managers</h2>
      <p className="hint">A Pro Manager creates and assigns custom roles: for the whole organization, or only inside one location. Nobody can use a role to give themselves remote access.</p>
      <ErrorNote error={error} />
      {holders.map((holder, index) => (
        <fieldset key={index} className="assignment" data-testid="pro-manager">
          <TokenPicker label="Users" options={principals.users} value={holder.users} onChange={(users) => change(index, { users })} />
          <TokenPicker label="Security groups" options={principals.groups} value={holder.groups} onChange={(groups) => change(index, { groups })} />
          <LocationSelect label="Where" none="The whole organization" locations={locations} value={holder.location} onChange={(location) => change(index, { location })} />
          <button type="button" onClick={() => setHolders(holders.filter((_, i) => i !== index))}>
            Remove
          </button>
        </fieldset>
      ))}
      <div className="actions">
        <button type="button" onClick={() => setHolders([...holders, { users: [], groups: [], location: '' }])}>
          Add Pro Managers
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        <button type="button" className="primary" onClick={() => void save()}>
          Save
        </button>
      </div>
    </section>
  );
}
