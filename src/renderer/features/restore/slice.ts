import type { RestorePlan } from '../../../shared/api/methods/restore.js';
import type { ErrorData } from '../../../shared/errors.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';
import type { BrowseCollection } from '../backups/slice.js';
import {
  blocker,
  emptyDraft,
  nextStep,
  planInput,
  previousStep,
  type SourceName,
  type Step,
  type TargetDraft,
  type WizardDraft,
} from './wizard.js';

/** What the chosen backup holds: its sources and the manifest's counts. */
export interface HeldSources {
  sources: SourceName[];
  counts: Record<string, number>;
}

const SOURCES: readonly SourceName[] = ['firestore', 'auth', 'rtdb', 'storage'];

export interface RestoreSlice {
  step: Step;
  draft: WizardDraft;
  /** Root collections of the chosen backup, to tick. */
  collections: Loadable<BrowseCollection[]>;
  held: Loadable<HeldSources>;
  plan: Loadable<RestorePlan | null>;
  /** The dry run's job, while it runs (its progress is shown). */
  planJobId: string | null;
  jobId: string | null;
  startError: ErrorData | null;
  setDraft(patch: Partial<WizardDraft>): void;
  setTarget(patch: Partial<TargetDraft>): void;
  chooseBackup(destinationId: string, backupId: string): Promise<void>;
  next(): void;
  back(): void;
  runPlan(): Promise<void>;
  start(confirm: string): Promise<boolean>;
  reset(): void;
}

export const restoreSlice: SliceCreator<RestoreSlice> = ({ client, get, set }) => {
  const initial = () => ({
    step: 'backup' as Step,
    draft: emptyDraft(),
    collections: loadable<BrowseCollection[]>([]),
    held: loadable<HeldSources>({ sources: ['firestore'], counts: {} }),
    plan: loadable<RestorePlan | null>(null),
    planJobId: null,
    jobId: null,
    startError: null,
  });
  const slice: RestoreSlice = {
    ...initial(),
    // Any change to what would be restored makes an earlier plan stale.
    setDraft: (patch) => set((s) => ({ draft: { ...s.draft, ...patch }, plan: loadable(null) })),
    setTarget: (patch) =>
      set((s) => ({
        draft: { ...s.draft, target: { ...s.draft.target, ...patch } },
        plan: loadable(null),
      })),
    async chooseBackup(destinationId, backupId) {
      slice.setDraft({ destinationId, backupId, collections: [], sources: null });
      set({
        collections: { value: [], loading: true, error: null },
        held: { value: { sources: ['firestore'], counts: {} }, loading: true, error: null },
      });
      await Promise.all([
        callInto(client, 'backups.collections', { destinationId, backupId }, (error) =>
          set({ collections: { value: [], loading: false, error } }),
        ).then((value) => {
          if (value)
            set({ collections: { value: value.collections, loading: false, error: null } });
        }),
        // The sources to offer: those the manifest names.
        callInto(client, 'backups.detail', { destinationId, backupId }, (error) =>
          set({ held: { ...get().held, loading: false, error } }),
        ).then((detail) => {
          if (!detail) return;
          const sources = SOURCES.filter((s) => detail.sources.includes(s));
          set({
            held: {
              value: { sources: sources.length ? sources : ['firestore'], counts: detail.counts },
              loading: false,
              error: null,
            },
          });
        }),
      ]);
    },
    next() {
      const { step, draft, plan, held } = get();
      if (blocker(step, draft, plan.value, held.value.sources) === null)
        set({ step: nextStep(step) });
    },
    back: () => set((s) => ({ step: previousStep(s.step) })),
    async runPlan() {
      set({ plan: { value: null, loading: true, error: null } });
      const value = await callInto(client, 'restore.plan', planInput(get().draft), (error) =>
        set({ plan: { value: null, loading: false, error } }),
      );
      if (value) set({ plan: { value, loading: false, error: null } });
    },
    async start(confirm) {
      set({ startError: null });
      const started = await callInto(
        client,
        'restore.start',
        { ...planInput(get().draft), confirm },
        (error) => set({ startError: error }),
      );
      if (!started) return false;
      set({ jobId: started.jobId, step: 'progress' });
      return true;
    },
    reset: () => set(initial()),
  };
  return slice;
};
