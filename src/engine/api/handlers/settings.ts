import { moveCatalog } from './catalog-location.js';
import type { HandlerContext, HandlersFor } from './context.js';

export function settingsHandlers(
  context: HandlerContext,
): HandlersFor<'settings.get' | 'settings.update'> {
  const { settings } = context;
  return {
    'settings.get': async () => (await settings()).get(),
    'settings.update': async ({ catalogPath, ...rest }) => {
      const store = await settings();
      // A new catalog folder is applied, not only recorded: the catalog moves there first
      // (refused, with nothing changed, when it cannot).
      if (catalogPath !== undefined && catalogPath !== store.get().catalogPath)
        await moveCatalog(context, catalogPath);
      return store.update(rest);
    },
  };
}
