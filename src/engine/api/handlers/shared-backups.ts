import type { HandlerContext, HandlersFor } from './context.js';
import { syncedCatalogOf } from './sync.js';

/**
 * A backup known only to the organisation server (team sync mode): its detail from the
 * server's metadata, and what reading or restoring it here needs. The archive is in the
 * member's storage and sealed with their key; neither passes through the server. So the
 * answer says where it is (the destination's URL) and which key reads it, and whether
 * this machine has both: a destination with the same URL (then the normal detail and
 * restore read it from there) and the key.
 */
export function sharedBackupHandlers(context: HandlerContext): HandlersFor<'backups.shared'> {
  const { catalog } = context.runtime;
  return {
    'backups.shared': async ({ destinationId, backupId }) => {
      const shared = await syncedCatalogOf(context).sharedBackup(destinationId, backupId);
      const { backup: b, destination } = shared;
      const local =
        destination.url === null ? undefined : catalog.destinations.findByUrl(destination.url);
      const keyHeld = b.keyId !== '' && context.keyring.find(b.keyId) !== undefined;
      const needs: string[] = [];
      if (local === undefined)
        needs.push(
          destination.url === null
            ? 'The organisation server does not say where its archive is stored: ask the member who made it for the destination, add it under Destinations with its credentials, then refresh.'
            : `Add the destination ${destination.url} with its credentials on this machine (Destinations → Add a destination), then refresh the Backups list.`,
        );
      if (!keyHeld)
        needs.push(
          b.keyId === ''
            ? 'The server does not record which key sealed it: you need the key of the member who made it (Keys → Import a key).'
            : `Import the key ${b.keyId} on this machine (Keys → Import a key): ask the member who made the backup for it.`,
        );
      return {
        destinationId,
        id: b.id,
        serverId: b.serverId,
        project: b.project,
        projectName: shared.projectName,
        createdAt: b.createdAt,
        completedAt: b.completedAt,
        sources: b.sources,
        documents: b.documents,
        bytes: b.bytes,
        keyId: b.keyId === '' ? null : b.keyId,
        keyHeld,
        destination: { serverId: b.destinationServerId, ...destination },
        here: local === undefined ? null : { destinationId: local.id, name: local.name },
        recordedBy: shared.who(b.recordedBy),
        run: b.run === null ? null : { ...b.run, reportedBy: shared.who(b.run.reportedBy) },
        needs,
        sync: shared.indicator,
      };
    },
  };
}
