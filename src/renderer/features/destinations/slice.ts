import type { DestinationView } from '../../../shared/api/methods/destination-setup.js';
import type { DestinationKind } from '../../../shared/destination-forms.js';
import type { ErrorData } from '../../../shared/errors.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';

export type DestinationTest =
  | { state: 'running' }
  | { state: 'ok'; displayUrl: string; latencyMs: number }
  | { state: 'failed'; error: ErrorData };

/** Tests are kept per saved destination id, and under DRAFT for the form being filled. */
export const DRAFT = 'draft';

export interface DestinationsSlice {
  kinds: Loadable<DestinationKind[]>;
  list: Loadable<DestinationView[]>;
  actionError: ErrorData | null;
  tests: Record<string, DestinationTest>;
  load(): Promise<void>;
  /** `secret`: the kind's stored secret (kept in the SecretStore; never shown again). */
  add(input: {
    name: string;
    url: string;
    options: Record<string, unknown>;
    secret?: string;
  }): Promise<DestinationView | undefined>;
  /** With `secret`, replaces the saved one; without, keeps it. */
  update(
    destinationId: string,
    options: Record<string, unknown>,
    secret?: string,
  ): Promise<boolean>;
  /** Tests a saved destination (by id) or the form's draft (url + options + secret). */
  test(
    target:
      | { destinationId: string }
      | { url: string; options: Record<string, unknown>; secret?: string },
  ): Promise<DestinationTest>;
  remove(destinationId: string): Promise<boolean>;
  clearError(): void;
}

export const destinationsSlice: SliceCreator<DestinationsSlice> = ({ client, get, set }) => {
  const actionFailed = (error: ErrorData) => set({ actionError: error });
  const slice: DestinationsSlice = {
    kinds: loadable([]),
    list: loadable([]),
    actionError: null,
    tests: {},
    async load() {
      set({
        list: { ...get().list, loading: true, error: null },
        kinds: { ...get().kinds, loading: true },
      });
      const [kinds, list] = await Promise.all([
        client.call('destinations.kinds', {}),
        client.call('destinations.list', {}),
      ]);
      set({
        kinds: kinds.ok
          ? { value: kinds.value, loading: false, error: null }
          : { ...get().kinds, loading: false, error: kinds.error },
        list: list.ok
          ? { value: list.value, loading: false, error: null }
          : { ...get().list, loading: false, error: list.error },
      });
    },
    async add(input) {
      set({ actionError: null });
      const added = await callInto(client, 'destinations.add', input, actionFailed);
      if (added) {
        // The draft's test result was about the form just saved; it must not linger.
        set((s) => ({
          tests: Object.fromEntries(Object.entries(s.tests).filter(([k]) => k !== DRAFT)),
        }));
        await slice.load();
      }
      return added;
    },
    async update(destinationId, options, secret) {
      set({ actionError: null });
      const done = await callInto(
        client,
        'destinations.update',
        { destinationId, options, ...(secret ? { secret } : {}) },
        actionFailed,
      );
      if (done) await slice.load();
      return done !== undefined;
    },
    async test(target) {
      const key = 'destinationId' in target ? target.destinationId : DRAFT;
      set((s) => ({ tests: { ...s.tests, [key]: { state: 'running' } } }));
      const result = await client.call('destinations.test', target);
      const t: DestinationTest = result.ok
        ? { state: 'ok', ...result.value }
        : { state: 'failed', error: result.error };
      set((s) => ({ tests: { ...s.tests, [key]: t } }));
      return t;
    },
    async remove(destinationId) {
      set({ actionError: null });
      const done = await callInto(client, 'destinations.remove', { destinationId }, actionFailed);
      if (done) await slice.load();
      return done !== undefined;
    },
    clearError: () => set({ actionError: null }),
  };
  return slice;
};
