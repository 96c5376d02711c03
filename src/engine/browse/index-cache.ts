import type { Keyring } from '../keys/keyring.js';
import { readManifest } from '../operations/manifest.js';
import type { ResolvedBackup } from '../operations/resolve-backup.js';
import { BackupIndex } from './backup-index.js';
import { openDirectoryIndex } from './directory-index.js';
import type { IndexStore } from './index-store.js';

/**
 * The browse indexes of the few backups someone is looking at, most recent first. A
 * build in progress is shared (two screens asking at once read the archive once), and a
 * failed build is forgotten so the next request tries again. A backup with a browse
 * directory (ADR 0008) is opened from it; for one without, with a store, an index is
 * saved once built and loaded next time (pages at once; values follow from a full read
 * started beside it).
 */
export class BackupIndexCache {
  private readonly entries = new Map<string, Promise<BackupIndex>>();

  constructor(
    private readonly keyring: Keyring,
    private readonly options: {
      capacity?: number;
      payloadBudget?: number;
      store?: IndexStore;
    } = {},
  ) {}

  get(key: string, resolve: () => Promise<ResolvedBackup>): Promise<BackupIndex> {
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last, so the first key is the one to evict.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = resolve().then((backup) => this.open(key, backup));
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > (this.options.capacity ?? 3)) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }

  /**
   * Builds and saves the index of a backup nobody is looking at yet (one just made), ids
   * only: its first browse then loads it at once, and no values are held meanwhile.
   */
  async prebuild(key: string, resolve: () => Promise<ResolvedBackup>): Promise<void> {
    if (this.entries.has(key) || !this.options.store) return;
    await this.open(key, await resolve(), 0);
  }

  private async open(
    key: string,
    backup: ResolvedBackup,
    payloadBudget = this.options.payloadBudget,
  ): Promise<BackupIndex> {
    // A backup with a browse directory needs no full read and nothing saved here.
    const direct = await openDirectoryIndex(backup, this.keyring);
    if (direct) return direct;
    const { store } = this.options;
    const build = (): Promise<BackupIndex> =>
      BackupIndex.build(backup, this.keyring, {
        ...(payloadBudget === undefined ? {} : { payloadBudget }),
      });
    // Without a manifest (an archive file on its own) there is no digest to tie a saved
    // index to: build every time.
    const digest =
      store && backup.id
        ? (await readManifest(backup.destination, backup.id, this.keyring)).archive.sha256
        : undefined;
    if (!store || !digest) return build();
    const saved = await store.load(key, digest, this.keyring);
    if (saved) return BackupIndex.fromSaved(saved, backup, this.keyring, build());
    const index = await build();
    // A cache: failing to save (read-only disk) only means building again next time.
    await store.save(key, digest, this.keyring, index.toSaved()).catch(() => undefined);
    return index;
  }

  /** Forgets a backup (deleted, or its archive replaced by a rewrap). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}

const caches = new WeakMap<object, BackupIndexCache>();

/** The one cache of a runtime (every handler domain that browses shares it). */
export function indexCacheFor(
  owner: object,
  keyring: Keyring,
  store?: IndexStore,
): BackupIndexCache {
  let cache = caches.get(owner);
  if (!cache) {
    cache = new BackupIndexCache(keyring, store ? { store } : {});
    caches.set(owner, cache);
  }
  return cache;
}
