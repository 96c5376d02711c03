import type { RunStatus } from '../../../shared/jobs.js';

/** The first-run guide's steps, in order. */
export const FIRST_RUN_STEPS = [
  'key',
  'project',
  'destination',
  'backup',
  'verify',
  'done',
] as const;
export type FirstRunStep = (typeof FIRST_RUN_STEPS)[number];

export const STEP_TITLES: Record<FirstRunStep, string> = {
  key: 'Make your key',
  project: 'Add a project',
  destination: 'Choose where backups go',
  backup: 'Back up now',
  verify: 'Verify the backup',
  done: 'Done',
};

export interface FirstRunProgress {
  keyId: string | null;
  kitSaved: boolean;
  projectId: string | null;
  destinationId: string | null;
  backupStatus: RunStatus | null;
  verifyStatus: RunStatus | null;
}

/**
 * Whether a step is complete, so "Continue" may be pressed. The key step needs the
 * recovery kit saved: a key that exists only on this machine is one disk failure away
 * from every backup being unreadable.
 */
export function stepComplete(step: FirstRunStep, p: FirstRunProgress): boolean {
  switch (step) {
    case 'key':
      return p.keyId !== null && p.kitSaved;
    case 'project':
      return p.projectId !== null;
    case 'destination':
      return p.destinationId !== null;
    case 'backup':
      return p.backupStatus === 'succeeded';
    case 'verify':
      return p.verifyStatus === 'succeeded';
    case 'done':
      return true;
  }
}

export function nextStep(step: FirstRunStep): FirstRunStep {
  const i = FIRST_RUN_STEPS.indexOf(step);
  return FIRST_RUN_STEPS[Math.min(i + 1, FIRST_RUN_STEPS.length - 1)]!;
}

/** The catalog is empty (no project and no destination): a first run. */
export function isFirstRun(projects: number, destinations: number): boolean {
  return projects === 0 && destinations === 0;
}
