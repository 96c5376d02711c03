import type { ProjectAdd, ProjectView } from '../../../shared/api/methods/projects.js';
import type { ErrorData } from '../../../shared/errors.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

/** The outcome of a "Test connection", per project. */
export type ConnectionTest =
  | { state: 'running' }
  | { state: 'ok'; rootCollections: string[]; latencyMs: number }
  | { state: 'failed'; error: ErrorData };

export interface ProjectsSlice {
  list: Loadable<ProjectView[]>;
  /** The last add/remove failure (the form shows it). */
  actionError: ErrorData | null;
  tests: Record<string, ConnectionTest>;
  load(): Promise<void>;
  add(input: ProjectAdd): Promise<ProjectView | undefined>;
  test(projectId: string): Promise<ConnectionTest>;
  remove(projectId: string): Promise<boolean>;
  clearError(): void;
}

export const projectsSlice: SliceCreator<ProjectsSlice> = ({ client, get, set }) => {
  const actionFailed = (error: ErrorData) => set({ actionError: error });
  const setTest = (id: string, t: ConnectionTest) =>
    set((s) => ({ tests: { ...s.tests, [id]: t } }));
  const slice: ProjectsSlice = {
    list: loadable([]),
    actionError: null,
    tests: {},
    async load() {
      set({ list: { ...get().list, loading: true, error: null } });
      const value = await callInto(client, 'projects.list', {}, (error) =>
        set({ list: { ...get().list, loading: false, error } }),
      );
      if (value) set({ list: { value, loading: false, error: null } });
    },
    async add(input) {
      set({ actionError: null });
      const added = await callInto(client, 'projects.add', input, actionFailed);
      if (added) await slice.load();
      return added;
    },
    async test(projectId) {
      setTest(projectId, { state: 'running' });
      const result = await client.call('projects.test', { projectId });
      const t: ConnectionTest = result.ok
        ? { state: 'ok', ...result.value }
        : { state: 'failed', error: result.error };
      setTest(projectId, t);
      return t;
    },
    async remove(projectId) {
      set({ actionError: null });
      const done = await callInto(client, 'projects.remove', { projectId }, actionFailed);
      if (done) await slice.load();
      return done !== undefined;
    },
    clearError: () => set({ actionError: null }),
  };
  return slice;
};
