import type { z } from 'zod';
import type { RetentionPreviewSchema } from '../../../shared/api/methods/schedule-edit.js';
import type { ErrorData } from '../../../shared/errors.js';
import type { Schedule } from '../../../shared/schedules.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';
import { draftOf, inputOf, newDraft, retentionOf, type ScheduleDraft } from './draft.js';

export type RetentionPreview = z.infer<typeof RetentionPreviewSchema>;

export interface SchedulesSlice {
  list: Loadable<Schedule[]>;
  /** The editor's form; null when closed. */
  draft: ScheduleDraft | null;
  nextRuns: Loadable<Array<{ at: string; local: string }>>;
  retention: Loadable<RetentionPreview | null>;
  actionError: ErrorData | null;
  /** A warning from the last save (e.g. not saved in the destination). */
  warning: string | null;
  load(): Promise<void>;
  edit(schedule: Schedule | null): void;
  setDraft(patch: Partial<ScheduleDraft>): void;
  close(): void;
  previewRuns(): Promise<void>;
  previewRetention(): Promise<void>;
  save(): Promise<boolean>;
  setEnabled(id: string, enabled: boolean): Promise<void>;
  remove(id: string): Promise<void>;
  /** A `schedule.changed` event: the list is reloaded. */
  applyChange(): void;
}

export const schedulesSlice: SliceCreator<SchedulesSlice> = ({ client, get, set }) => {
  const failed = (error: ErrorData) => set({ actionError: error });
  const slice: SchedulesSlice = {
    list: loadable([]),
    draft: null,
    nextRuns: loadable([]),
    retention: loadable(null),
    actionError: null,
    warning: null,
    async load() {
      set({ list: { ...get().list, loading: true, error: null } });
      const value = await callInto(client, 'schedules.list', {}, (error) =>
        set({ list: { ...get().list, loading: false, error } }),
      );
      if (value) set({ list: { value, loading: false, error: null } });
    },
    edit(schedule) {
      const zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
      set({
        draft: schedule ? draftOf(schedule) : newDraft(zone),
        actionError: null,
        warning: null,
        retention: loadable(null),
      });
      void slice.previewRuns();
    },
    setDraft(patch) {
      const draft = get().draft;
      if (draft) set({ draft: { ...draft, ...patch } });
    },
    close: () => set({ draft: null }),
    async previewRuns() {
      const d = get().draft;
      if (!d) return;
      set({ nextRuns: { ...get().nextRuns, loading: true, error: null } });
      const value = await callInto(
        client,
        'schedules.preview',
        { cron: d.cron, timeZone: d.timeZone, count: 5 },
        (error) => set({ nextRuns: { value: [], loading: false, error } }),
      );
      if (value) set({ nextRuns: { value: value.runs, loading: false, error: null } });
    },
    async previewRetention() {
      const d = get().draft;
      if (!d) return;
      set({ retention: { value: null, loading: true, error: null } });
      const where = d.id
        ? { scheduleId: d.id }
        : { projectId: d.projectId, destinationId: d.destinationId };
      const value = await callInto(
        client,
        'schedules.retentionPreview',
        { ...where, retention: retentionOf(d), timeZone: d.timeZone },
        (error) => set({ retention: { value: null, loading: false, error } }),
      );
      if (value) set({ retention: { value, loading: false, error: null } });
    },
    async save() {
      const d = get().draft;
      if (!d) return false;
      set({ actionError: null, warning: null });
      const saved = d.id
        ? await callInto(client, 'schedules.update', { id: d.id, changes: inputOf(d) }, failed)
        : await callInto(client, 'schedules.create', inputOf(d), failed);
      if (!saved) return false;
      set({ draft: null, warning: saved.warning ?? null });
      await slice.load();
      return true;
    },
    async setEnabled(id, enabled) {
      set({ actionError: null });
      await callInto(client, enabled ? 'schedules.resume' : 'schedules.pause', { id }, failed);
      await slice.load();
    },
    async remove(id) {
      set({ actionError: null });
      await callInto(client, 'schedules.remove', { id }, failed);
      await slice.load();
    },
    applyChange: () => void slice.load(),
  };
  return slice;
};
