import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../../shared/schedules.js';
import { draftOf, draftProblems, inputOf, newDraft } from './draft.js';

describe('the schedule editor form', () => {
  it('turns typed numbers into a retention policy, leaving empty rules out', () => {
    const d = {
      ...newDraft(),
      name: ' nightly ',
      projectId: 'p',
      destinationId: 'd',
      keepLast: '3',
      keepDaily: '',
      keepWeekly: '4',
      keepMonthly: '',
    };
    expect(inputOf(d)).toMatchObject({
      name: 'nightly',
      retention: { keepLast: 3, keepWeekly: 4 },
      verifyAfter: { mode: 'full' },
    });
    expect(inputOf(d).retention).not.toHaveProperty('keepDaily');
  });

  it('says what is wrong with each field', () => {
    const problems = draftProblems({
      ...newDraft(),
      keepLast: 'three',
      verify: 'sample',
      sampleFraction: '2',
    });
    expect(Object.keys(problems).sort()).toEqual(
      ['destinationId', 'keepLast', 'name', 'projectId', 'sampleFraction'].sort(),
    );
  });

  it('round-trips a schedule through the form', () => {
    const s = {
      id: 'sch_1',
      name: 'n',
      kind: 'backup',
      projectId: 'p',
      destinationId: 'd',
      cron: '0 3 * * *',
      timeZone: 'Europe/Paris',
      scope: {},
      retention: { keepDaily: 7 },
      verifyAfter: { mode: 'sample', fraction: 0.25 },
      verifyBatch: 3,
      notifyOnSuccess: false,
      allowEmpty: false,
      enabled: false,
      createdAt: '2026-11-30T00:00:00.000Z',
      lastScheduledFor: null,
    } as Schedule;
    expect(inputOf(draftOf(s))).toEqual({
      name: 'n',
      kind: 'backup',
      projectId: 'p',
      destinationId: 'd',
      cron: '0 3 * * *',
      timeZone: 'Europe/Paris',
      retention: { keepDaily: 7 },
      verifyAfter: { mode: 'sample', fraction: 0.25 },
      enabled: false,
    });
  });
});
