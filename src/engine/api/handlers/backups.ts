import { listBackups } from '../../operations/list.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

export function backupHandlers(context: HandlerContext): HandlersFor<'backups.list'> {
  const { runtime, keyring } = context;
  return {
    'backups.list': async ({ destinationId }) => {
      const synced = syncedCatalogOf(context);
      const known = runtime.catalog.destinations.list().some((d) => d.id === destinationId);
      // In sync mode a destination may be only the organisation's (not set up here): its
      // backups are then the ones the organisation's runs and records place there.
      if (!known && (await synced.active())) return synced.backups(destinationId, []);
      const local = await listBackups(
        await runtime.openDestination(runtime.catalog.destinations.get(destinationId)),
        keyring,
      );
      return synced.backups(destinationId, local);
    },
  };
}
