import { randomInt } from 'node:crypto';
import {
  CHECK_CATEGORIES,
  type CheckCategory,
  type CheckCategoryName,
  type CheckItem,
  type CheckReport,
} from '../../shared/check.js';
import { AppError, isAppError, toErrorData } from '../../shared/errors.js';
import type { Keyring } from '../keys/keyring.js';
import {
  objectExists,
  type Leftover,
  type LeftoverKind,
  type ObjectInfo,
  type StorageBackend,
} from '../storage/backend.js';
import { mapLimit } from '../util/map-limit.js';
import { ARCHIVE_SUFFIX, archiveKeyOf, idOfManifestKey, manifestKeyOf } from './backup-names.js';
import { BACKUP_ID_PATTERN } from '../../shared/backups.js';
import type { OperationContext } from './types.js';
import { verifyBackup } from './verify.js';

/**
 * `firebackup check`: the whole destination at once (restic check is the model). Every
 * manifest read, every archive's stored bytes compared with its manifest (verify's digest
 * check), a share of the archives decrypted in full, objects without their pair,
 * leftovers of interrupted writes, and the catalog compared with what is really there.
 * `repair` removes orphans and leftovers, but only old ones, and never an archive that
 * has a manifest: a running backup writes its archive first and its manifest last, so a
 * young archive without a manifest may be one finishing right now.
 */
export interface CheckOptions {
  /** Share of backups (0–1) decrypted and authenticated in full; the rest get the digest check only. */
  readData?: number;
  repair?: boolean;
  /** The backup ids the catalog holds for this destination; omitted: no comparison. */
  catalogIds?: readonly string[];
  /** Orphans and leftovers younger than this are never removed. */
  minAgeMs?: number;
  now?: () => Date;
  /** Picks the read-data sample: an index below `n` (tests pass a fixed one). */
  pick?: (n: number) => number;
}

/** A write never takes a day; anything younger may belong to a backup running now. */
export const DEFAULT_MIN_AGE_MS = 24 * 60 * 60 * 1000;

const TITLES: Record<CheckCategoryName, [string, CheckCategory['severity']]> = {
  manifests: ['Manifests that cannot be read', 'damage'],
  keys: ['Backups under a key not given', 'key'],
  digests: ["Archives that differ from their manifest's digest", 'damage'],
  data: ['Archives that fail decryption or authentication (read-data)', 'damage'],
  orphanManifests: ['Manifests without their archive (backup lost)', 'damage'],
  orphanArchives: ['Archives without a manifest (interrupted backup or deletion)', 'notice'],
  temporaries: ['Temporaries of unfinished writes', 'notice'],
  uploads: ['Abandoned multipart uploads', 'notice'],
  catalogMissing: ['In the catalog but not in the destination', 'notice'],
  catalogUnknown: ['In the destination but not in the catalog', 'notice'],
};

const LEFTOVER_CATEGORY: Record<LeftoverKind, CheckCategoryName> = {
  temporary: 'temporaries',
  upload: 'uploads',
};

export async function checkDestination(
  destination: StorageBackend,
  keyring: Keyring,
  ctx: OperationContext = {},
  options: CheckOptions = {},
): Promise<CheckReport> {
  const fraction = options.readData ?? 0;
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `The read-data share must be from 0 to 1 (0.1 = a tenth of the backups), not ${fraction}.`,
    );
  }
  const now = options.now ?? (() => new Date());
  const minAgeMs = options.minAgeMs ?? DEFAULT_MIN_AGE_MS;
  const repair = options.repair ?? false;
  const categories = Object.fromEntries(
    CHECK_CATEGORIES.map((name) => {
      const [title, severity] = TITLES[name];
      return [name, { title, severity, status: 'checked', items: [] } as CheckCategory];
    }),
  ) as Record<CheckCategoryName, CheckCategory>;
  const add = (name: CheckCategoryName, item: CheckItem): void => {
    categories[name].items.push(item);
  };

  const { manifests, archives } = await inventory(destination);
  const ids = [...manifests.keys()].filter((id) => archives.has(id)).sort();
  const sample = pickSample(ids, fraction, options.pick);

  // The digest check reads each manifest too: one pass says whether both are sound.
  // Four at a time, so without progress lines: four interleaved meters say nothing.
  const quiet = ctx.signal ? { signal: ctx.signal } : {};
  await mapLimit(ids, 4, (id) => checkOne(destination, keyring, quiet, id, 'digest', add));
  for (const id of sample) {
    throwIfCancelled(ctx);
    await checkOne(destination, keyring, ctx, id, 'full', add);
  }

  // Removal goes through one gate: old enough, and its pair still absent right now.
  const removeIf = async (
    item: CheckItem,
    modified: Date,
    pairKey: string | undefined,
    remove: () => Promise<void>,
  ): Promise<void> => {
    if (!repair) return;
    if (now().getTime() - modified.getTime() < minAgeMs) {
      item.kept = 'younger than the safe age: it may belong to a backup running now';
    } else if (pairKey !== undefined && (await objectExists(destination, pairKey))) {
      item.kept = `${pairKey} appeared meanwhile: it belongs to a backup`;
    } else {
      await remove();
      item.removed = true;
    }
  };

  for (const [id, info] of manifests) {
    if (archives.has(id)) continue;
    const item = itemOf(info, id, `The manifest of ${id} is there but its archive is not.`);
    add('orphanManifests', item);
    await removeIf(item, info.modified, archiveKeyOf(id), () => destination.delete(info.key));
  }
  for (const [id, info] of archives) {
    if (manifests.has(id)) continue;
    const item = itemOf(info, id, `${info.key} has no manifest, so no command shows it.`);
    add('orphanArchives', item);
    await removeIf(item, info.modified, manifestKeyOf(id), () => destination.delete(info.key));
  }

  await checkLeftovers(destination, categories, ctx, async (leftover, item) =>
    removeIf(item, leftover.modified, undefined, () =>
      destination.housekeeping!.removeLeftover(leftover),
    ),
  );

  if (options.catalogIds) {
    const catalog = new Set(options.catalogIds);
    const there = new Set(ids);
    for (const id of [...catalog].filter((i) => !there.has(i)).sort()) {
      add('catalogMissing', {
        key: archiveKeyOf(id),
        id,
        message: `The catalog lists ${id}, which is not a complete backup in the destination. Run \`firebackup catalog rebuild\` to bring the catalog up to date.`,
      });
    }
    for (const id of ids.filter((i) => !catalog.has(i))) {
      add('catalogUnknown', {
        key: archiveKeyOf(id),
        id,
        message: `${id} is in the destination but not in the catalog (made by another machine, or the catalog is stale).`,
      });
    }
  } else {
    for (const name of ['catalogMissing', 'catalogUnknown'] as const) {
      categories[name].status = 'not-checked';
      categories[name].reason = 'this destination is not in the catalog';
    }
  }

  const count = (severity: CheckCategory['severity']): number =>
    Object.values(categories)
      .filter((c) => c.severity === severity)
      .reduce((n, c) => n + c.items.length, 0);
  return {
    destination: destination.displayUrl,
    backups: ids.length,
    readData: { fraction, ids: sample },
    repair,
    categories,
    damage: count('damage'),
    keyProblems: count('key'),
    notices: count('notice'),
  };
}

/** The manifests and archives at the top of the destination, by backup id. */
async function inventory(destination: StorageBackend): Promise<{
  manifests: Map<string, ObjectInfo>;
  archives: Map<string, ObjectInfo>;
}> {
  const manifests = new Map<string, ObjectInfo>();
  const archives = new Map<string, ObjectInfo>();
  for await (const info of destination.list('')) {
    if (info.key.includes('/')) continue;
    const manifestId = idOfManifestKey(info.key);
    if (manifestId) manifests.set(manifestId, info);
    else if (info.key.endsWith(ARCHIVE_SUFFIX)) {
      const id = info.key.slice(0, -ARCHIVE_SUFFIX.length);
      if (BACKUP_ID_PATTERN.test(id)) archives.set(id, info);
    }
  }
  return { manifests, archives };
}

/** `ceil(fraction × n)` distinct ids, chosen at random, in id order. */
function pickSample(
  ids: readonly string[],
  fraction: number,
  pick: (n: number) => number = (n) => randomInt(n),
): string[] {
  const pool = [...ids];
  const chosen: string[] = [];
  const wanted = Math.min(pool.length, Math.ceil(fraction * pool.length));
  while (chosen.length < wanted) chosen.push(pool.splice(pick(pool.length), 1)[0]!);
  return chosen.sort();
}

/**
 * Verifies one backup at `depth` and files what fails under its category. Returns true
 * when it passed. Only cancellation and failures to reach the storage are thrown.
 */
async function checkOne(
  destination: StorageBackend,
  keyring: Keyring,
  ctx: OperationContext,
  id: string,
  depth: 'digest' | 'full',
  add: (name: CheckCategoryName, item: CheckItem) => void,
): Promise<boolean> {
  const backup = { destination, archiveKey: archiveKeyOf(id), id, label: id };
  try {
    const report = await verifyBackup(backup, keyring, ctx, { depth });
    if (report.ok) return true;
    add(depth === 'digest' ? 'digests' : 'data', {
      key: backup.archiveKey,
      id,
      message: report.error?.message ?? 'verification failed',
    });
  } catch (error) {
    if (!isAppError(error)) throw error;
    if (error.code === 'KEY_NOT_FOUND') {
      // Reported once, from the digest pass (the full pass would say the same).
      if (depth === 'digest') add('keys', { key: manifestKeyOf(id), id, message: error.message });
    } else if (['ARCHIVE_CORRUPT', 'ARCHIVE_UNSUPPORTED', 'INTEGRITY'].includes(error.code)) {
      if (depth === 'digest') {
        add('manifests', { key: manifestKeyOf(id), id, message: toErrorData(error).message });
      }
    } else {
      throw error;
    }
  }
  return false;
}

async function checkLeftovers(
  destination: StorageBackend,
  categories: Record<CheckCategoryName, CheckCategory>,
  ctx: OperationContext,
  repair: (leftover: Leftover, item: CheckItem) => Promise<void>,
): Promise<void> {
  const housekeeping = destination.housekeeping;
  for (const [kind, name] of Object.entries(LEFTOVER_CATEGORY) as [
    LeftoverKind,
    CheckCategoryName,
  ][]) {
    if (!housekeeping?.kinds.includes(kind)) {
      categories[name].status = 'not-applicable';
      categories[name].reason = `a ${destination.kind} destination has none`;
    }
  }
  if (!housekeeping) return;
  const found: Leftover[] = [];
  try {
    for await (const leftover of housekeeping.leftovers(ctx.signal)) found.push(leftover);
  } catch (error) {
    if (isAppError(error) && error.code === 'CANCELLED') throw error;
    // Some S3-compatible services lack ListMultipartUploads: say so, do not fail.
    for (const kind of housekeeping.kinds) {
      const category = categories[LEFTOVER_CATEGORY[kind]];
      category.status = 'not-checked';
      category.reason = toErrorData(error).message;
    }
    return;
  }
  for (const leftover of found) {
    const item: CheckItem = {
      key: leftover.key,
      modified: leftover.modified.toISOString(),
      ...(leftover.size !== undefined ? { size: leftover.size } : {}),
      message:
        leftover.kind === 'upload'
          ? `An upload of ${leftover.key} started ${leftover.modified.toISOString()} never finished.`
          : `${leftover.ref} is the temporary of a write of ${leftover.key} that never finished.`,
    };
    categories[LEFTOVER_CATEGORY[leftover.kind]].items.push(item);
    await repair(leftover, item);
  }
}

function itemOf(info: ObjectInfo, id: string, message: string): CheckItem {
  return { key: info.key, id, size: info.size, modified: info.modified.toISOString(), message };
}

function throwIfCancelled(ctx: OperationContext): void {
  if (ctx.signal?.aborted) throw new AppError('CANCELLED', 'The check was cancelled.');
}
