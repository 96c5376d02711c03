import { describe, expect, it } from 'vitest';
import type { RestorePlan } from '../../../shared/api/methods/restore.js';
import {
  blocker,
  chosenSources,
  confirmationFor,
  emptyDraft,
  nextStep,
  parsePaths,
  planInput,
  previousStep,
  targetOf,
  toggleSource,
} from './wizard.js';

describe('the restore wizard rules', () => {
  it('walks the steps in order and stays within them', () => {
    expect(nextStep('backup')).toBe('selection');
    expect(nextStep('confirm')).toBe('progress');
    expect(nextStep('progress')).toBe('progress');
    expect(previousStep('backup')).toBe('backup');
  });

  it('says what is missing before a step can be left', () => {
    const d = emptyDraft();
    expect(blocker('backup', d, null)).toBe('Choose a backup.');
    d.backupId = 'bkp_20261130T010203004Z_0a1b2c3d';
    expect(blocker('backup', d, null)).toBeNull();
    expect(blocker('target', d, null)).toBe('Choose a project.');
    d.target = { ...d.target, kind: 'emulator', host: 'localhost', firebaseProjectId: 'demo' };
    expect(blocker('target', d, null)).toMatch(/host:port/);
    d.target.host = '127.0.0.1:8085';
    expect(blocker('target', d, null)).toBeNull();
    d.target = { ...d.target, kind: 'folder', directory: '/tmp/out' };
    d.mode = 'mirror';
    expect(blocker('mode', d, null)).toMatch(/create/);
    expect(blocker('plan', d, null)).toMatch(/dry run/);
  });

  it('builds the contract input: paths parsed, empty lists left out', () => {
    expect(parsePaths(' users/alice ,\n/orders/ ,, ')).toEqual(['users/alice', 'orders']);
    const d = {
      ...emptyDraft(),
      destinationId: 'dst_1',
      backupId: 'bkp_20261130T010203004Z_0a1b2c3d',
      target: { ...emptyDraft().target, kind: 'project' as const, projectId: 'prj_1' },
    };
    expect(planInput(d)).toEqual({
      destinationId: 'dst_1',
      backupId: d.backupId,
      target: { kind: 'project', projectId: 'prj_1' },
      mode: 'create',
    });
    expect(planInput({ ...d, collections: ['users'], pathsText: 'orders/1' })).toMatchObject({
      collections: ['users'],
      paths: ['orders/1'],
    });
    expect(targetOf({ ...d.target, kind: 'folder', directory: '  ' })).toBe('Give a folder.');
  });

  it('asks for the target project id, or the folder', () => {
    const plan = { confirmWith: 'demo-staging', target: 'demo-staging/(default)' } as RestorePlan;
    expect(confirmationFor(plan)).toBe('demo-staging');
    expect(confirmationFor({ ...plan, confirmWith: null, target: '/tmp/out' })).toBe('/tmp/out');
  });

  it('restores every source the backup holds until one is unticked', () => {
    const held = ['firestore', 'auth', 'rtdb', 'storage'] as const;
    const d = emptyDraft();
    expect(chosenSources(d, held)).toEqual(held);
    d.sources = toggleSource(d, held, 'auth', false);
    expect(d.sources).toEqual(['firestore', 'rtdb', 'storage']);
    d.sources = toggleSource(d, held, 'auth', true);
    expect(d.sources).toEqual(held);
    for (const s of held) d.sources = toggleSource(d, held, s, false);
    expect(blocker('selection', d, null, held)).toMatch(/at least one source/);
  });

  it('keeps mirror for Firestore only, counting the sources the backup holds', () => {
    const d = { ...emptyDraft(), mode: 'mirror' as const };
    expect(blocker('mode', d, null, ['firestore'])).toBeNull();
    expect(blocker('mode', d, null, ['firestore', 'storage'])).toMatch(/Firestore documents only/);
    expect(
      blocker('mode', { ...d, sources: ['firestore'] }, null, ['firestore', 'storage']),
    ).toBeNull();
  });

  it('sends the sources and their options only when chosen, and only those a target takes', () => {
    const d = {
      ...emptyDraft(),
      destinationId: 'dst_1',
      backupId: 'bkp_20261130T010203004Z_0a1b2c3d',
      target: { ...emptyDraft().target, kind: 'project' as const, projectId: 'prj_1' },
      rtdbPathsText: 'users/alice, /rooms/',
      toBucket: ' other-bucket ',
      toRtdbInstance: 'other-rtdb',
      tenantMapText: 'a=b',
    };
    // Every source by default: no list sent, the options for all of them.
    expect(planInput(d)).toMatchObject({
      rtdbPaths: ['/users/alice', '/rooms'],
      toBucket: 'other-bucket',
      toRtdbInstance: 'other-rtdb',
      tenantMap: 'a=b',
    });
    expect(planInput(d)).not.toHaveProperty('sources');
    // Unticked sources take their options with them.
    const some = planInput({ ...d, sources: ['firestore', 'auth'] });
    expect(some).toMatchObject({ sources: ['firestore', 'auth'], tenantMap: 'a=b' });
    expect(some).not.toHaveProperty('toBucket');
    expect(some).not.toHaveProperty('rtdbPaths');
    // A folder takes every source as files: no target choices.
    const folder = planInput({
      ...d,
      target: { ...d.target, kind: 'folder', directory: '/tmp/o' },
    });
    expect(folder).not.toHaveProperty('toBucket');
    expect(folder).not.toHaveProperty('tenantMap');
    expect(folder).not.toHaveProperty('rtdbPaths');
  });
});
