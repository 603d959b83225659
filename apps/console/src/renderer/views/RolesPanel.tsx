import type { RoleView } from '@roomlink/shared';
import { useCallback, useEffect, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { useConsole, usePlatform } from '../store/store';
import { permissionLabels, RoleWizard } from './RoleWizard';
import { Confirm, ErrorNote } from './ui';

export function RolesPanel() {
  const { api } = usePlatform();
  const canManage = useConsole((s) => s.status?.account?.canManageRoles ?? false);
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
