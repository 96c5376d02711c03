import { TeamClient } from '../../team/client.js';
import { TeamLocalStore, teamStorePath } from '../../team/local-store.js';
import { TeamService } from '../../team/service.js';
import { SyncedCatalog } from '../../team/synced-catalog.js';
import type { HandlerContext, HandlersFor } from './context.js';

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
    const fetch = context.team?.fetch;
    service = new TeamService(
      new TeamClient({ secrets: context.secrets, ...(fetch !== undefined ? { fetch } : {}) }),
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
      secrets: context.secrets,
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
