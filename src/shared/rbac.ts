/**
 * Roles and permissions of team sync mode, as the product's security requirements give
 * them (the permission matrix and API key scopes in docs/security.md). The org server
 * enforces these itself; the app uses the same table to show only what a role may do.
 */
export const ROLES = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  'backups:view',
  'backups:create',
  'backups:restore',
  'backups:delete',
  'schedules:view',
  'schedules:manage',
  'projects:manage',
  'members:manage',
  'billing:manage',
  'org:delete',
] as const;
export type Action = (typeof ACTIONS)[number];

const ALL: readonly Role[] = ['owner', 'admin', 'member', 'viewer'];
const WRITERS: readonly Role[] = ['owner', 'admin', 'member'];
const ADMINS: readonly Role[] = ['owner', 'admin'];
const OWNER: readonly Role[] = ['owner'];

/** Who may do what. Members "create/manage backups, schedules"; viewers only read. */
export const PERMISSION_MATRIX: Record<Action, readonly Role[]> = {
  'backups:view': ALL,
  'backups:create': WRITERS,
  'backups:restore': WRITERS,
  'backups:delete': ADMINS,
  'schedules:view': ALL,
  'schedules:manage': WRITERS,
  'projects:manage': ADMINS,
  'members:manage': ADMINS,
  'billing:manage': OWNER,
  'org:delete': OWNER,
};

export const API_KEY_SCOPES = [
  'backups:read',
  'backups:write',
  'schedules:read',
  'schedules:write',
  'projects:read',
] as const;
export type ApiKeyScope = (typeof API_KEY_SCOPES)[number];

/** The scope an API key needs for an action; actions with none are never open to keys. */
export const SCOPE_FOR_ACTION: Partial<Record<Action, ApiKeyScope>> = {
  'backups:view': 'backups:read',
  'backups:create': 'backups:write',
  'backups:restore': 'backups:write',
  'schedules:view': 'schedules:read',
  'schedules:manage': 'schedules:write',
};

/** Who is calling: a signed-in member (by role), an API key (by scopes), or the local user. */
export type Caller =
  | { kind: 'local' }
  | { kind: 'member'; role: Role }
  | { kind: 'apiKey'; scopes: readonly ApiKeyScope[] };

export function isAllowed(caller: Caller, action: Action): boolean {
  switch (caller.kind) {
    case 'local':
      // Without team sync the person at the machine owns it.
      return true;
    case 'member':
      return PERMISSION_MATRIX[action].includes(caller.role);
    case 'apiKey': {
      const scope = SCOPE_FOR_ACTION[action];
      return scope !== undefined && caller.scopes.includes(scope);
    }
  }
}

/** Actions that only read (offered even while the role is not known yet). */
const READS: ReadonlySet<Action> = new Set(['backups:view', 'schedules:view']);

/**
 * What the app offers on its screens: everything outside team sync mode (the person at
 * the machine owns it); in sync mode what the member's role allows, and only reading while
 * the role is not known (never synced, offline). Hiding is for clarity only: the server
 * checks every call itself.
 */
export function can(
  team: { mode: 'local' | 'server'; role: Role | null | undefined },
  action: Action,
): boolean {
  if (team.mode === 'local') return true;
  if (team.role === null || team.role === undefined) return READS.has(action);
  return isAllowed({ kind: 'member', role: team.role }, action);
}
