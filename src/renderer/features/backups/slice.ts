import type {
  BackupDetailSchema,
  BrowseCollectionSchema,
  BrowseDocumentSchema,
} from '../../../shared/api/methods/backup-browse.js';
import type { BackupFilter, BackupRow } from '../../../shared/backup-filters.js';
import type { ErrorData } from '../../../shared/errors.js';
import type { FirestoreDocumentRecord } from '../../../shared/firestore.js';
import type { SharedBackupSchema } from '../../../shared/api/methods/shared-backups.js';
import { callInto, loadable, type Loadable, type SliceCreator } from '../../store/slice.js';
import type { z } from 'zod';

export type BackupDetail = z.infer<typeof BackupDetailSchema>;
export type SharedBackup = z.infer<typeof SharedBackupSchema>;
export type BrowseCollection = z.infer<typeof BrowseCollectionSchema>;
export type BrowseDocument = z.infer<typeof BrowseDocumentSchema>;
export interface BackupRef {
  destinationId: string;
  backupId: string;
  /** Known only to the organisation server (team sync mode): its detail is the server's. */
  shared?: boolean;
}

/** The read-only document browser of the selected backup. */
export interface BrowserState {
  /** The document whose subcollections are listed; "" for the root collections. */
  parent: string;
  collections: Loadable<BrowseCollection[]>;
  collection: string | null;
  documents: Loadable<BrowseDocument[]>;
  total: number;
  nextCursor: string | null;
  document: Loadable<{
    document: FirestoreDocumentRecord;
    subcollections: BrowseCollection[];
  } | null>;
}

export interface BackupsSlice {
  /** Every backup of the catalog; the screen filters them itself (same rules as the engine). */
  rows: Loadable<BackupRow[]>;
  filter: BackupFilter;
  selected: BackupRef | null;
  detail: Loadable<BackupDetail | null>;
  /** The selected backup's detail from the organisation server (a `shared` one). */
  shared: Loadable<SharedBackup | null>;
  browser: BrowserState;
  actionError: ErrorData | null;
  load(): Promise<void>;
  setFilter(patch: Partial<BackupFilter>): void;
  select(ref: BackupRef | null): Promise<void>;
  /** Re-reads the selected backup's detail (after a verify), keeping the browser as it is. */
  refreshDetail(): Promise<void>;
  /**
   * A destination was added, changed or removed (a `destination.changed` event): the rows
   * (which destination each backup is in) and an open shared backup ("Read it from …")
   * are read again, once they were loaded at all.
   */
  applyDestinationChange(): Promise<void>;
  openParent(parent: string): Promise<void>;
  openCollection(collection: string): Promise<void>;
  moreDocuments(): Promise<void>;
  openDocument(path: string): Promise<void>;
  verify(): Promise<string | undefined>;
  /**
   * A shared backup whose destination (same URL) is set up here: lists that destination's
   * storage and opens the backup from it, as any backup of this machine.
   */
  readHere(destinationId: string): Promise<void>;
  remove(confirm: string): Promise<boolean>;
}

const emptyBrowser = (): BrowserState => ({
  parent: '',
  collections: loadable([]),
  collection: null,
  documents: loadable([]),
  total: 0,
  nextCursor: null,
  document: loadable(null),
});

/** Sets one optional filter field, removing it when emptied (so it stops filtering). */
export function patchFilter(filter: BackupFilter, patch: Partial<BackupFilter>): BackupFilter {
  const next: Record<string, unknown> = { ...filter };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined || value === '') delete next[key];
    else next[key] = value;
  }
  return next as BackupFilter;
}

export const PAGE_SIZE = 100;

export const backupsSlice: SliceCreator<BackupsSlice> = ({ client, get, set }) => {
  const setBrowser = (patch: Partial<BrowserState>) =>
    set((s) => ({ browser: { ...s.browser, ...patch } }));
  const failed = (error: ErrorData) => set({ actionError: error });
  /** The selected backup as the engine's methods name it (without `shared`). */
  const ref = () => {
    const s = get().selected;
    return s && { destinationId: s.destinationId, backupId: s.backupId };
  };

  /** Reads a shared backup's detail from the engine (while it is still the one selected). */
  const refreshShared = async (selected: BackupRef) => {
    const { destinationId, backupId } = selected;
    const shared = await callInto(client, 'backups.shared', { destinationId, backupId }, (error) =>
      set({ shared: { ...get().shared, loading: false, error } }),
    );
    if (shared && get().selected === selected)
      set({ shared: { value: shared, loading: false, error: null } });
  };

  const slice: BackupsSlice = {
    rows: loadable([]),
    filter: {},
    selected: null,
    detail: loadable(null),
    shared: loadable(null),
    browser: emptyBrowser(),
    actionError: null,

    async load() {
      set({ rows: { ...get().rows, loading: true, error: null } });
      const value = await callInto(client, 'backups.search', { limit: 50_000 }, (error) =>
        set({ rows: { ...get().rows, loading: false, error } }),
      );
      if (value) set({ rows: { value: value.backups, loading: false, error: null } });
    },

    setFilter(patch) {
      set({ filter: patchFilter(get().filter, patch) });
    },

    async select(selected) {
      set({
        selected,
        detail: { value: null, loading: !!selected && !selected.shared, error: null },
        shared: { value: null, loading: !!selected?.shared, error: null },
        browser: emptyBrowser(),
        actionError: null,
      });
      if (!selected) return;
      if (selected.shared) return refreshShared(selected);
      const detail = await callInto(client, 'backups.detail', ref()!, (error) =>
        set({ detail: { value: null, loading: false, error } }),
      );
      if (detail && get().selected === selected)
        set({ detail: { value: detail, loading: false, error: null } });
    },

    async refreshDetail() {
      const selected = get().selected;
      if (!selected || selected.shared) return;
      const detail = await callInto(client, 'backups.detail', ref()!, (error) =>
        set({ detail: { ...get().detail, error } }),
      );
      if (detail && get().selected === selected)
        set({ detail: { value: detail, loading: false, error: null } });
    },

    async applyDestinationChange() {
      const { rows, selected } = get();
      const reads: Promise<unknown>[] = [];
      if (rows.value.length > 0 || rows.error !== null) reads.push(slice.load());
      if (selected?.shared) reads.push(refreshShared(selected));
      await Promise.all(reads);
    },

    async openParent(parent) {
      const r = ref();
      if (!r) return;
      setBrowser({
        ...emptyBrowser(),
        parent,
        collections: { value: [], loading: true, error: null },
      });
      const value = await callInto(
        client,
        'backups.collections',
        { ...r, ...(parent ? { parent } : {}) },
        (error) => setBrowser({ collections: { value: [], loading: false, error } }),
      );
      if (value)
        setBrowser({ collections: { value: value.collections, loading: false, error: null } });
    },

    async openCollection(collection) {
      const r = ref();
      if (!r) return;
      setBrowser({
        collection,
        documents: { value: [], loading: true, error: null },
        nextCursor: null,
        total: 0,
        document: loadable(null),
      });
      const page = await callInto(
        client,
        'backups.documents',
        { ...r, collection, limit: PAGE_SIZE },
        (error) => setBrowser({ documents: { value: [], loading: false, error } }),
      );
      if (page)
        setBrowser({
          documents: { value: page.documents, loading: false, error: null },
          nextCursor: page.nextCursor,
          total: page.total,
        });
    },

    async moreDocuments() {
      const r = ref();
      const { collection, nextCursor, documents } = get().browser;
      if (!r || !collection || !nextCursor) return;
      setBrowser({ documents: { ...documents, loading: true } });
      const page = await callInto(
        client,
        'backups.documents',
        { ...r, collection, cursor: nextCursor, limit: PAGE_SIZE },
        (error) => setBrowser({ documents: { ...documents, loading: false, error } }),
      );
      if (page)
        setBrowser({
          documents: {
            value: [...documents.value, ...page.documents],
            loading: false,
            error: null,
          },
          nextCursor: page.nextCursor,
        });
    },

    async openDocument(path) {
      const r = ref();
      if (!r) return;
      setBrowser({ document: { value: null, loading: true, error: null } });
      const value = await callInto(client, 'backups.document', { ...r, path }, (error) =>
        setBrowser({ document: { value: null, loading: false, error } }),
      );
      if (value) setBrowser({ document: { value, loading: false, error: null } });
    },

    async verify() {
      const r = ref();
      if (!r) return undefined;
      set({ actionError: null });
      const started = await callInto(client, 'backups.verify', r, failed);
      return started?.jobId;
    },

    async readHere(destinationId) {
      const r = ref();
      if (!r) return;
      set({ actionError: null });
      const listed = await callInto(client, 'backups.refresh', { destinationId }, failed);
      if (!listed) return;
      await slice.load();
      await slice.select({ destinationId, backupId: r.backupId });
    },

    async remove(confirm) {
      const r = ref();
      if (!r) return false;
      set({ actionError: null });
      const done = await callInto(client, 'backups.delete', { ...r, confirm }, failed);
      if (!done) return false;
      set({ selected: null, detail: loadable(null), browser: emptyBrowser() });
      await slice.load();
      return true;
    },
  };
  return slice;
};
