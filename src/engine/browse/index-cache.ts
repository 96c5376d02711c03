import type { Keyring } from '../keys/keyring.js';
import type { ResolvedBackup } from '../operations/resolve-backup.js';
import { BackupIndex } from './backup-index.js';

/**
 * The browse indexes of the few backups someone is looking at, most recent first. A
 * build in progress is shared (two screens asking at once read the archive once), and a
 * failed build is forgotten so the next request tries again.
 */
export class BackupIndexCache {
  private readonly entries = new Map<string, Promise<BackupIndex>>();

  constructor(
    private readonly keyring: Keyring,
    private readonly capacity = 3,
    private readonly payloadBudget?: number,
  ) {}

  get(key: string, resolve: () => Promise<ResolvedBackup>): Promise<BackupIndex> {
    let entry = this.entries.get(key);
    if (entry) {
      // Most recently used last, so the first key is the one to evict.
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = resolve().then((backup) =>
      BackupIndex.build(backup, this.keyring, {
        ...(this.payloadBudget === undefined ? {} : { payloadBudget: this.payloadBudget }),
      }),
    );
    this.entries.set(key, entry);
    entry.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    while (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    return entry;
  }

  /** Forgets a backup (deleted, or its archive replaced by a rewrap). */
  forget(key: string): void {
    this.entries.delete(key);
  }
}

const caches = new WeakMap<object, BackupIndexCache>();

/** The one cache of a runtime (every handler domain that browses shares it). */
export function indexCacheFor(owner: object, keyring: Keyring): BackupIndexCache {
  let cache = caches.get(owner);
  if (!cache) {
    cache = new BackupIndexCache(keyring);
    caches.set(owner, cache);
  }
  return cache;
}
