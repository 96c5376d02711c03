import { describe, expect, it } from 'vitest';
import { roleChoices, teamAbilities } from './permissions.js';

describe('what the team screens offer each role', () => {
  it('owners and admins manage members, keys and read the audit log; members and viewers do not', () => {
    expect(teamAbilities('owner')).toMatchObject({ manageMembers: true, readAudit: true });
    expect(teamAbilities('admin')).toMatchObject({ manageApiKeys: true, manageProjects: true });
    expect(teamAbilities('member')).toEqual({
      manageMembers: false,
      manageApiKeys: false,
      readAudit: false,
      manageProjects: false,
      recordBackups: true,
    });
    expect(teamAbilities('viewer')).toMatchObject({ recordBackups: false, manageMembers: false });
    expect(teamAbilities(null)).toMatchObject({ recordBackups: false });
  });

  it('only owners make or unmake owners; admins change the others; members change nobody', () => {
    expect(roleChoices('owner', 'owner')).toEqual(['owner', 'admin', 'member', 'viewer']);
    expect(roleChoices('admin', 'owner')).toEqual([]);
    expect(roleChoices('admin', 'viewer')).toEqual(['admin', 'member', 'viewer']);
    expect(roleChoices('member', 'viewer')).toEqual([]);
    expect(roleChoices('viewer', 'member')).toEqual([]);
  });
});
