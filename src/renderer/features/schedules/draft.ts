import type { RetentionPolicy, Schedule, VerifyAfterBackup } from '../../../shared/schedules.js';

/** The schedule editor's form, as typed (numbers as strings), and its conversions. */
export interface ScheduleDraft {
  /** Null for a new schedule. */
  id: string | null;
  name: string;
  kind: 'backup' | 'verify' | 'check';
  projectId: string;
  destinationId: string;
  cron: string;
  timeZone: string;
  keepLast: string;
  keepDaily: string;
  keepWeekly: string;
  keepMonthly: string;
  verify: 'full' | 'sample' | 'none';
  sampleFraction: string;
  enabled: boolean;
}

const RULES = ['keepLast', 'keepDaily', 'keepWeekly', 'keepMonthly'] as const;

export function newDraft(timeZone = 'UTC'): ScheduleDraft {
  return {
    id: null,
    name: '',
    kind: 'backup',
    projectId: '',
    destinationId: '',
    cron: '0 2 * * *',
    timeZone,
    keepLast: '',
    keepDaily: '7',
    keepWeekly: '4',
    keepMonthly: '6',
    verify: 'full',
    sampleFraction: '0.1',
    enabled: true,
  };
}

export function draftOf(s: Schedule): ScheduleDraft {
  const n = (v: number | undefined) => (v === undefined ? '' : String(v));
  return {
    id: s.id,
    name: s.name,
    kind: s.kind,
    projectId: s.projectId,
    destinationId: s.destinationId,
    cron: s.cron,
    timeZone: s.timeZone,
    keepLast: n(s.retention.keepLast),
    keepDaily: n(s.retention.keepDaily),
    keepWeekly: n(s.retention.keepWeekly),
    keepMonthly: n(s.retention.keepMonthly),
    verify: s.verifyAfter.mode,
    sampleFraction: s.verifyAfter.mode === 'sample' ? String(s.verifyAfter.fraction) : '0.1',
    enabled: s.enabled,
  };
}

/** Rules typed as whole numbers; empty ones left out (an empty policy keeps everything). */
export function retentionOf(d: ScheduleDraft): RetentionPolicy {
  const policy: RetentionPolicy = {};
  for (const rule of RULES) {
    const text = d[rule].trim();
    if (text !== '' && /^\d+$/.test(text)) policy[rule] = Number(text);
  }
  return policy;
}

export function verifyOf(d: ScheduleDraft): VerifyAfterBackup {
  if (d.verify !== 'sample') return { mode: d.verify };
  return { mode: 'sample', fraction: Number(d.sampleFraction) };
}

/** Field problems the form shows before anything is sent (the engine checks again). */
export function draftProblems(d: ScheduleDraft): Partial<Record<keyof ScheduleDraft, string>> {
  const problems: Partial<Record<keyof ScheduleDraft, string>> = {};
  if (!d.name.trim()) problems.name = 'Give the schedule a name.';
  if (!d.projectId) problems.projectId = 'Choose a project.';
  if (!d.destinationId) problems.destinationId = 'Choose a destination.';
  for (const rule of RULES) {
    if (d[rule].trim() !== '' && !/^\d+$/.test(d[rule].trim()))
      problems[rule] = 'A whole number, or empty.';
  }
  const f = Number(d.sampleFraction);
  if (d.verify === 'sample' && !(f > 0 && f <= 1))
    problems.sampleFraction = 'A share between 0 and 1, like 0.1.';
  return problems;
}

/** The contract's schedule input for a draft (create, or the changes of update). */
export function inputOf(d: ScheduleDraft) {
  return {
    name: d.name.trim(),
    kind: d.kind,
    projectId: d.projectId,
    destinationId: d.destinationId,
    cron: d.cron.trim(),
    timeZone: d.timeZone,
    retention: retentionOf(d),
    verifyAfter: verifyOf(d),
    enabled: d.enabled,
  };
}
