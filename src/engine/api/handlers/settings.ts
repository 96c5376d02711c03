import type { HandlerContext, HandlersFor } from './context.js';

export function settingsHandlers({
  settings,
}: HandlerContext): HandlersFor<'settings.get' | 'settings.update'> {
  return {
    'settings.get': async () => (await settings()).get(),
    'settings.update': async (patch) => (await settings()).update(patch),
  };
}
