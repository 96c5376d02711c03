import { isAllowed, ROLES, type Role } from '../../../shared/rbac.js';

/**
 * What the team screens offer a member of `role`, from the same permission matrix the
 * server enforces (src/shared/rbac.ts). Hiding is for clarity only: the server checks
 * every call itself, and a call the screen should not have made is refused there.
 */
export interface TeamAbilities {
  manageMembers: boolean;
  manageApiKeys: boolean;
  readAudit: boolean;
  manageProjects: boolean;
  recordBackups: boolean;
}

export function teamAbilities(role: Role | null | undefined): TeamAbilities {
  if (role === null || role === undefined)
    return {
      manageMembers: false,
      manageApiKeys: false,
      readAudit: false,
      manageProjects: false,
      recordBackups: false,
    };
  const member = { kind: 'member' as const, role };
  const admin = isAllowed(member, 'members:manage');
  return {
    manageMembers: admin,
    manageApiKeys: admin,
    readAudit: admin,
    manageProjects: isAllowed(member, 'projects:manage'),
    recordBackups: isAllowed(member, 'backups:create'),
  };
}

/**
 * The roles `caller` may give a member who is `target` now; empty when the caller may not
 * change them at all. Only owners make or unmake owners (the server's rule too).
 */
export function roleChoices(caller: Role | null | undefined, target: Role): Role[] {
  if (!teamAbilities(caller).manageMembers) return [];
  if (caller === 'owner') return [...ROLES];
  if (target === 'owner') return [];
  return ROLES.filter((r) => r !== 'owner');
}
