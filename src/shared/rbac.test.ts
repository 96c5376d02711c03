import { describe, expect, it } from 'vitest';
import { ACTIONS, ROLES, isAllowed, type Action, type Role } from './rbac.js';

/** The security guide's permission matrix, row by row (✓ = allowed). */
const SEED_MATRIX: Record<string, [Action, Record<Role, boolean>]> = {
  'View backups': ['backups:view', { owner: true, admin: true, member: true, viewer: true }],
  'Create backups': ['backups:create', { owner: true, admin: true, member: true, viewer: false }],
  'Restore backups': ['backups:restore', { owner: true, admin: true, member: true, viewer: false }],
  'Delete backups': ['backups:delete', { owner: true, admin: true, member: false, viewer: false }],
  'Manage projects': [
    'projects:manage',
    { owner: true, admin: true, member: false, viewer: false },
  ],
  'Manage members': ['members:manage', { owner: true, admin: true, member: false, viewer: false }],
  'Manage billing': ['billing:manage', { owner: true, admin: false, member: false, viewer: false }],
  'Delete org': ['org:delete', { owner: true, admin: false, member: false, viewer: false }],
};

describe('RBAC', () => {
  for (const [row, [action, expected]] of Object.entries(SEED_MATRIX)) {
    it(`follows the seed's matrix for "${row}"`, () => {
      for (const role of ROLES)
        expect(isAllowed({ kind: 'member', role }, action), role).toBe(expected[role]);
    });
  }

  it('lets members manage schedules and viewers only read them', () => {
    expect(isAllowed({ kind: 'member', role: 'member' }, 'schedules:manage')).toBe(true);
    expect(isAllowed({ kind: 'member', role: 'viewer' }, 'schedules:manage')).toBe(false);
    expect(isAllowed({ kind: 'member', role: 'viewer' }, 'schedules:view')).toBe(true);
  });

  it('gives API keys exactly their scopes, and nothing without a scope', () => {
    const reader = { kind: 'apiKey' as const, scopes: ['backups:read' as const] };
    expect(isAllowed(reader, 'backups:view')).toBe(true);
    expect(isAllowed(reader, 'backups:create')).toBe(false);
    const writer = {
      kind: 'apiKey' as const,
      scopes: ['backups:read' as const, 'backups:write' as const],
    };
    expect(isAllowed(writer, 'backups:restore')).toBe(true);
    for (const action of [
      'backups:delete',
      'members:manage',
      'billing:manage',
      'org:delete',
    ] as const) {
      expect(
        isAllowed(
          {
            kind: 'apiKey',
            scopes: [
              'backups:read',
              'backups:write',
              'schedules:read',
              'schedules:write',
              'projects:read',
            ],
          },
          action,
        ),
      ).toBe(false);
    }
  });

  it('lets the local user (no team sync) do everything', () => {
    for (const action of ACTIONS) expect(isAllowed({ kind: 'local' }, action)).toBe(true);
  });
});
