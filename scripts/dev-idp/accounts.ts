/** Entra ID's template id of the Global Administrator directory role, as it appears in the `wids` claim. */
export const GLOBAL_ADMINISTRATOR_WID = '62e90394-69f5-4237-9190-012177145e10';

export interface DevAccount {
  /** What a person types or picks on the sign-in page. */
  username: string;
  oid: string;
  tid: string;
  name: string;
  email: string;
  groups: string[];
  /** Directory role template ids (Entra's `wids`). */
  wids: string[];
}

export const DEMO_TENANT = 'contoso';
export const OTHER_TENANT = 'fabrikam';
/** The tenants the dev provider signs users into: what a server beside it provisions. */
export const devTenants = [DEMO_TENANT, OTHER_TENANT];
export const TECHNICIANS_GROUP = 'room-technicians';
export const OBSERVERS_GROUP = 'room-observers';

/** The demo organization: an admin, a technician and a viewer, plus one outsider from another tenant. */
export const devAccounts: DevAccount[] = [
  { username: 'admin@contoso.test', oid: 'u-admin', tid: DEMO_TENANT, name: 'Adele Admin', email: 'admin@contoso.test', groups: [], wids: [GLOBAL_ADMINISTRATOR_WID] },
  { username: 'tech@contoso.test', oid: 'u-tech', tid: DEMO_TENANT, name: 'Tomas Technician', email: 'tech@contoso.test', groups: [TECHNICIANS_GROUP], wids: [] },
  { username: 'viewer@contoso.test', oid: 'u-viewer', tid: DEMO_TENANT, name: 'Vera Viewer', email: 'viewer@contoso.test', groups: [OBSERVERS_GROUP], wids: [] },
  { username: 'admin@fabrikam.test', oid: 'u-fab-admin', tid: OTHER_TENANT, name: 'Fabian Fabrikam', email: 'admin@fabrikam.test', groups: [TECHNICIANS_GROUP], wids: [GLOBAL_ADMINISTRATOR_WID] },
];
