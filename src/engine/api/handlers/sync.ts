import { teamSignInStore } from '../../team/credentials.js';
import { TeamLocalStore, teamStorePath } from '../../team/local-store.js';
import { TeamService } from '../../team/service.js';
import { SyncedCatalog } from '../../team/synced-catalog.js';
import type { HandlerContext, HandlersFor } from './context.js';
import { teamClientOf } from './team-sign-in.js';

/**
 * One team service and one synced catalog per set of handlers: the `team.*` handlers,
 * the catalog lists (merged with the organisation's in sync mode) and `sync.state` share
 * them, so one delivery runs at a time and `sync.state` sees how each list was served.
 */
const services = new WeakMap<HandlerContext, TeamService>();
const catalogs = new WeakMap<HandlerContext, SyncedCatalog>();

/** The team service of these handlers, opened on first use (team.sqlite is made then). */
export function teamServiceOf(context: HandlerContext): TeamService {
  let service = services.get(context);
  if (service === undefined) {
    service = new TeamService(
      teamClientOf(context),
      TeamLocalStore.open(teamStorePath(context.dataDir)),
    );
    services.set(context, service);
  }
  return service;
}

/** What the catalog list handlers consult: their local rows, merged in sync mode. */
export function syncedCatalogOf(context: HandlerContext): SyncedCatalog {
  let synced = catalogs.get(context);
  if (synced === undefined) {
    synced = new SyncedCatalog({
      secrets: teamSignInStore(context.dataDir, context.secrets),
      service: () => teamServiceOf(context),
      catalog: () => context.runtime.catalog,
    });
    catalogs.set(context, synced);
  }
  return synced;
}

export function syncHandlers(context: HandlerContext): HandlersFor<'sync.state'> {
  return { 'sync.state': async () => syncedCatalogOf(context).state() };
}
