import { listBackups } from '../../operations/list.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function backupHandlers({ runtime, keyring }: HandlerContext): HandlersFor<'backups.list'> {
  return {
    'backups.list': async ({ destinationId }) => {
      const destination = runtime.catalog.destinations.get(destinationId);
      return listBackups(await runtime.openDestination(destination), keyring);
    },
  };
}
