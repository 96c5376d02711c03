import { AppError } from '../../../shared/errors.js';
import { copyCatalogTo, retireOldCatalog } from '../../catalog/move.js';
import type { HandlerContext, HandlersFor } from './context.js';

/**
 * Moves the catalog to `folder` (null: the app data folder) and switches to it: copied
 * and verified first (copyCatalogTo), then the shared settings name the folder (so the
 * CLI and a daemon started later find it), then this process's catalog follows, and the
 * old file is renamed aside (kept). Any failure before the settings change leaves
 * everything as it was.
 */
export async function moveCatalog(
  { runtime, dataDir, settings }: HandlerContext,
  folder: string | null,
  useExisting = false,
): Promise<{ file: string; copied: boolean; keptAs: string | null }> {
  const { catalog } = runtime;
  const previous = catalog.db.name;
  const move = await copyCatalogTo(catalog, folder ?? dataDir, { useExisting });
  const store = await settings();
  const before = store.get().catalogPath;
  store.update({ catalogPath: folder });
  if (move.file === previous) return { ...move, keptAs: null };
  try {
    catalog.relocate(move.file);
  } catch (error) {
    store.update({ catalogPath: before }); // the settings name the catalog still in use
    throw new AppError(
      'INTERNAL',
      `The catalog was copied to ${move.file} but could not be opened there (${(error as Error).message}); FireBackup keeps using ${previous}.`,
      { cause: error },
    );
  }
  const keptAs = move.copied ? await retireOldCatalog(previous, runtime.clock.now()) : undefined;
  return { file: move.file, copied: move.copied, keptAs: keptAs ?? null };
}

export function catalogLocationHandlers(
  context: HandlerContext,
): HandlersFor<'settings.moveCatalog'> {
  return {
    'settings.moveCatalog': async ({ folder, useExisting }) =>
      moveCatalog(context, folder, useExisting),
  };
}
