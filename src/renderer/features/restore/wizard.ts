import type { RestorePlan, RestoreTarget } from '../../../shared/api/methods/restore.js';
import type { z } from 'zod';
import type { SourceNameSchema } from '../../../shared/schedules.js';

export type SourceName = z.infer<typeof SourceNameSchema>;

/**
 * The restore wizard's steps and rules, pure (tested without a screen): which step comes
 * next, when a step is complete, and what the contract is called with.
 */

export const STEPS = [
  'backup',
  'selection',
  'target',
  'mode',
  'plan',
  'confirm',
  'progress',
] as const;
export type Step = (typeof STEPS)[number];

export const STEP_TITLES: Record<Step, string> = {
  backup: 'Backup',
  selection: 'What to restore',
  target: 'Where to',
  mode: 'Mode',
  plan: 'Dry run',
  confirm: 'Confirm',
  progress: 'Restore',
};

export type RestoreMode = 'create' | 'overwrite' | 'merge' | 'mirror';

export const MODE_HELP: Record<RestoreMode, string> = {
  create: 'Create the documents the target lacks; leave existing ones as they are.',
  overwrite: 'Create missing documents and replace existing ones whole.',
  merge:
    'Create missing documents and deep-merge into existing ones (fields only the target has are kept).',
  mirror:
    'Replace existing documents whole, then DELETE the target documents the backup does not have (within the selection).',
};

/** The target as the form holds it (strings as typed), before it is a contract target. */
export interface TargetDraft {
  kind: 'project' | 'emulator' | 'folder';
  projectId: string;
  host: string;
  firebaseProjectId: string;
  directory: string;
}

export interface WizardDraft {
  destinationId: string;
  backupId: string;
  /** Root collections ticked; empty = all. */
  collections: string[];
  /** Paths typed, comma- or line-separated. */
  pathsText: string;
  target: TargetDraft;
  mode: RestoreMode;
  /** The sources ticked; null until the user changes them: every source the backup holds. */
  sources: SourceName[] | null;
  /** Realtime Database paths typed, comma- or line-separated (empty: whole trees). */
  rtdbPathsText: string;
  /** Optional target choices of the other sources (empty: the defaults). */
  toBucket: string;
  toRtdbInstance: string;
  /** Auth tenant map, "from=to" pairs, comma-separated. */
  tenantMapText: string;
}

export const emptyDraft = (): WizardDraft => ({
  destinationId: '',
  backupId: '',
  collections: [],
  pathsText: '',
  target: {
    kind: 'project',
    projectId: '',
    host: '127.0.0.1:8080',
    firebaseProjectId: '',
    directory: '',
  },
  mode: 'create',
  sources: null,
  rtdbPathsText: '',
  toBucket: '',
  toRtdbInstance: '',
  tenantMapText: '',
});

/** The sources a restore of the draft writes, given those the backup holds. */
export function chosenSources(d: WizardDraft, held: readonly SourceName[]): SourceName[] {
  return d.sources ?? [...held];
}

/** Ticks or unticks one source (starting from every source the backup holds). */
export function toggleSource(
  d: WizardDraft,
  held: readonly SourceName[],
  source: SourceName,
  on: boolean,
): SourceName[] {
  const now = chosenSources(d, held);
  return held.filter((s) => (s === source ? on : now.includes(s)));
}

export function parsePaths(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((p) => p.trim().replace(/^\/+|\/+$/g, ''))
    .filter(Boolean);
}

/** The contract's target, or a sentence saying what is missing. */
export function targetOf(t: TargetDraft): RestoreTarget | string {
  switch (t.kind) {
    case 'project':
      return t.projectId ? { kind: 'project', projectId: t.projectId } : 'Choose a project.';
    case 'emulator':
      if (!/^[\w.-]+:\d{1,5}$/.test(t.host.trim())) return 'Give the emulator as host:port.';
      if (!/^[a-z0-9-]{1,63}$/.test(t.firebaseProjectId.trim()))
        return 'Give the project id to restore into (lowercase letters, digits, dashes).';
      return {
        kind: 'emulator',
        host: t.host.trim(),
        firebaseProjectId: t.firebaseProjectId.trim(),
        databaseId: '(default)',
      };
    case 'folder':
      return t.directory.trim()
        ? { kind: 'folder', directory: t.directory.trim() }
        : 'Give a folder.';
  }
}

/** Why the step cannot be left yet, or null when it is complete. */
export function blocker(
  step: Step,
  d: WizardDraft,
  plan: RestorePlan | null,
  /** The sources the backup holds (its manifest). */
  held: readonly SourceName[] = ['firestore'],
): string | null {
  switch (step) {
    case 'backup':
      return d.backupId ? null : 'Choose a backup.';
    case 'selection':
      return d.sources?.length === 0 ? 'Tick at least one source to restore.' : null;
    case 'target': {
      const t = targetOf(d.target);
      return typeof t === 'string' ? t : null;
    }
    case 'mode':
      if (d.target.kind === 'folder' && d.mode !== 'create')
        return 'A folder restore writes new files: use mode create.';
      if (d.mode === 'mirror' && chosenSources(d, held).some((s) => s !== 'firestore'))
        return 'Mirror is for Firestore documents only: untick the other sources, or choose another mode.';
      return null;
    case 'plan':
      return plan ? null : 'Run the dry run first.';
    default:
      return null;
  }
}

export function nextStep(step: Step): Step {
  return STEPS[Math.min(STEPS.indexOf(step) + 1, STEPS.length - 1)]!;
}
export function previousStep(step: Step): Step {
  return STEPS[Math.max(STEPS.indexOf(step) - 1, 0)]!;
}

/** The input of restore.plan / restore.start (without `confirm`). */
export function planInput(d: WizardDraft) {
  const target = targetOf(d.target);
  if (typeof target === 'string') throw new Error(target);
  const paths = parsePaths(d.pathsText);
  // RTDB paths keep their leading slash form: "/users/alice".
  const rtdbPaths = parsePaths(d.rtdbPathsText).map((p) => `/${p}`);
  const ticked = (s: SourceName) => d.sources === null || d.sources.includes(s);
  const intoProject = target.kind !== 'folder';
  return {
    destinationId: d.destinationId,
    backupId: d.backupId,
    target,
    mode: d.mode,
    ...(d.collections.length ? { collections: d.collections } : {}),
    ...(paths.length ? { paths } : {}),
    ...(d.sources ? { sources: d.sources } : {}),
    // A folder takes every source whole, as files.
    ...(intoProject && ticked('rtdb') && rtdbPaths.length ? { rtdbPaths } : {}),
    ...(intoProject && ticked('storage') && d.toBucket.trim()
      ? { toBucket: d.toBucket.trim() }
      : {}),
    ...(intoProject && ticked('rtdb') && d.toRtdbInstance.trim()
      ? { toRtdbInstance: d.toRtdbInstance.trim() }
      : {}),
    ...(intoProject && ticked('auth') && d.tenantMapText.trim()
      ? { tenantMap: d.tenantMapText.trim() }
      : {}),
  };
}

/** What the user must type: the target project id, or the folder the plan resolved. */
export function confirmationFor(plan: RestorePlan): string {
  return plan.confirmWith ?? plan.target;
}
