import type { Role } from './types';

/**
 * The roles every tenant has. None carries a remote-access permission (rule 2);
 * the engine would ignore one even if stored data said otherwise.
 */
export const builtInRoles: readonly Role[] = [
  {
    id: 'pro-manager',
    name: 'Pro Manager',
    builtIn: true,
    permissions: ['rooms.read', 'rooms.manage', 'incidents.manage', 'settings.manage', 'audit.read'],
  },
  {
    id: 'site-lead',
    name: 'Site Lead',
    builtIn: true,
    permissions: ['rooms.read', 'rooms.manage', 'incidents.manage'],
  },
  {
    id: 'site-technician',
    name: 'Site Technician',
    builtIn: true,
    permissions: ['rooms.read', 'incidents.manage'],
  },
];

export const PRO_MANAGER_ROLE_ID = 'pro-manager';
export const builtInRoleIds: ReadonlySet<string> = new Set(builtInRoles.map((role) => role.id));
