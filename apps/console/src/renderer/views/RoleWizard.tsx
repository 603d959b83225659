import { type AssignmentInput, type Location, Permission, type RoleInput, type RoleView } from '@roomlink/shared';
import { useEffect, useMemo, useState } from 'react';
import type { ConsoleFailure } from '../../api/console-api';
import { failureOf } from '../errors';
import { filterOptions, pathLabel } from '../rooms/filter';
import { useConsole, usePlatform } from '../store/store';
import { Checklist, TokenPicker, usePrincipals } from './pickers';
import { ErrorNote } from './ui';

export const permissionLabels: Record<Permission, string> = {
  'rooms.read': 'See rooms',
  'rooms.manage': 'Manage rooms',
  'incidents.manage': 'Manage incidents',
  'settings.manage': 'Manage settings',
  'audit.read': 'Read the audit log',
  'remoteAccess.view': 'Remote Access: View',
  'remoteAccess.modify': 'Remote Access: Modify (keyboard and shortcuts)',
};

type Step = 'basics' | 'permissions' | 'assignments' | 'review';
const steps: [Step, string][] = [
  ['basics', 'Name'],
  ['permissions', 'Permissions'],
  ['assignments', 'Assignments'],
  ['review', 'Review'],
];
type Scope = Required<AssignmentInput>;
const emptyScope = (): Scope => ({ users: [], groups: [], rooms: [], locations: [], tags: [] });

/** Create or edit a custom role: name → permissions → who and which rooms → review. */
export function RoleWizard({ role, onDone }: { role: RoleView | null; onDone(): void }) {
  const { api } = usePlatform();
  const rooms = useConsole((s) => s.rooms);
  const [step, setStep] = useState<Step>('basics');
  const [name, setName] = useState(role?.name ?? '');
  const [description, setDescription] = useState(role?.description ?? '');
  const [permissions, setPermissions] = useState<Permission[]>(role?.permissions ?? ['rooms.read']);
  const [assignments, setAssignments] = useState<Scope[]>(role?.assignments.map(({ users, groups, rooms: r, locations, tags }) => ({ users, groups, rooms: r, locations, tags })) ?? [emptyScope()]);
  const [locations, setLocations] = useState<Location[]>([]);
  const [error, setError] = useState<ConsoleFailure | null>(null);
  const [saving, setSaving] = useState(false);
  const { tags } = useMemo(() => filterOptions(rooms), [rooms]);
  const principals = usePrincipals();
  const locationOptions = useMemo(() => locations.map((l) => ({ value: l.id, label: pathLabel(l, locations) })).sort((a, b) => a.label.localeCompare(b.label)), [locations]);
  const roomOptions = useMemo(() => rooms.map((r) => ({ value: r.id, label: r.name })), [rooms]);
  useEffect(() => {
    api.locations().then(setLocations, (e: unknown) => setError(failureOf(e)));
  }, [api]);

  const toggle = (permission: Permission, on: boolean) =>
    setPermissions((current) => {
      const next = new Set(current);
      if (on) next.add(permission);
      else next.delete(permission);
      // Modify implies view (rule 2): keep the pair consistent as the admin clicks.
      if (permission === 'remoteAccess.modify' && on) next.add('remoteAccess.view');
      if (permission === 'remoteAccess.view' && !on) next.delete('remoteAccess.modify');
      return Permission.options.filter((p) => next.has(p));
    });
  const setScope = (index: number, patch: Partial<Scope>) => setAssignments((all) => all.map((a, i) => (i === index ? { ...a, ...patch } : a)));
  const index = steps.findIndex(([id]) => id === step);
  const canNext = step === 'basics' ? name.trim().length > 0 : step === 'permissions' ? permissions.length > 0 : true;
  const input: RoleInput = {
    name: name.trim(),
    description: description.trim(),
    permissions,
    assignments: assignments.filter((a) => (a.users.length > 0 || a.groups.length > 0) && (a.rooms.length > 0 || a.locations.length > 0 || a.tags.length > 0)),
  };
  const locationName = (id: string) => {
    const location = locations.find((l) => l.id === id);
    return location ? pathLabel(location, locations) : id;
  };
  const roomName = (id: string) => rooms.find((r) => r.id === id)?.name ?? id;

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      if (role) await api.updateRole(role.id, input);
      else await api.createRole(input);
      onDone();
    } catch (e) {
      setError(failureOf(e));
    } finally {
      setSaving(false);
    }
  };

  return (
    <section className="panel wizard" aria-label={role ? `Edit ${role.name}` : 'New custom role'}>
      <h2>{role ? `Edit ${role.name}` : 'New custom role'}</h2>
      <ol className="steps">
        {steps.map(([id, label], i) => (
          <li key={id} className={i === index ? 'current' : i < index ? 'done' : ''}>
            {label}
          </li>
        ))}
      </ol>
      {step === 'basics' && (
        <div className="form">
          <label>
            Name
            <input value={name} onChange={(e) => setName(e.target.value)} maxLength={120} autoFocus />
          </label>
          <label>
            Description
            <textarea value={description} onChange={(e) => setDescription(e.target.value)} maxLength={500} />
          </label>
        </div>
      )}
      {step === 'permissions' && (
        <fieldset className="form">
          <legend>Permissions</legend>
          {Permission.options.map((p) => (
            <label key={p} className="check">
              <input type="checkbox" checked={permissions.includes(p)} onChange={(e) => toggle(p, e.target.checked)} />
              {permissionLabels[p]}
            </label>
          ))}
        </fieldset>
      )}
      {step === 'assignments' && (
        <div className="form">
          <p className="hint">Each assignment gives the role to some people (users or security groups) for some rooms (directly, by location, or by tag). A person needs both to be in scope.</p>
          {assignments.map((scope, i) => (
            <fieldset key={i} className="assignment" aria-label={`Assignment ${i + 1}`}>
              <legend>Assignment {i + 1}</legend>
              <TokenPicker label="Users" options={principals.users} value={scope.users} onChange={(users) => setScope(i, { users })} />
              <TokenPicker label="Security groups" options={principals.groups} value={scope.groups} onChange={(groups) => setScope(i, { groups })} />
              <Checklist label="Locations" options={locationOptions} value={scope.locations} onChange={(locations) => setScope(i, { locations })} />
              <Checklist label="Tags" options={tags.map((t) => ({ value: t, label: t }))} value={scope.tags} onChange={(tags) => setScope(i, { tags })} />
              <TokenPicker label="Rooms" options={roomOptions} value={scope.rooms} onChange={(rooms) => setScope(i, { rooms })} free={false} />
              <button type="button" onClick={() => setAssignments((all) => all.filter((_, j) => j !== i))}>
                Remove assignment
              </button>
            </fieldset>
          ))}
          <button type="button" onClick={() => setAssignments((all) => [...all, emptyScope()])}>
            Add assignment
          </button>
        </div>
      )}
      {step === 'review' && (
        <div className="review" data-testid="role-review">
          <p>
            <b>{input.name}</b> — {input.description || 'no description'}
          </p>
          <p>Permissions: {permissions.map((p) => permissionLabels[p]).join(', ')}</p>
          {input.assignments!.length === 0 && <p className="hint">No complete assignments: the role gives nobody anything until it is assigned.</p>}
          <ul>
            {input.assignments!.map((a, i) => (
              <li key={i}>
                {[...(a.users ?? []), ...(a.groups ?? []).map((g) => `group ${g}`)].join(', ')} → {[...(a.locations ?? []).map(locationName), ...(a.tags ?? []).map((t) => `tag ${t}`), ...(a.rooms ?? []).map(roomName)].join(', ')}
              </li>
            ))}
          </ul>
        </div>
      )}
      <ErrorNote error={error} />
      <div className="dialog-actions">
        <button type="button" onClick={onDone}>
          Cancel
        </button>
        {index > 0 && (
          <button type="button" onClick={() => setStep(steps[index - 1]![0])}>
            Back
          </button>
        )}
        {step !== 'review' ? (
          <button type="button" className="primary" disabled={!canNext} onClick={() => setStep(steps[index + 1]![0])}>
            Next
          </button>
        ) : (
          <button type="button" className="primary" disabled={saving} onClick={() => void save()}>
            {role ? 'Save role' : 'Create role'}
          </button>
        )}
      </div>
    </section>
  );
}
