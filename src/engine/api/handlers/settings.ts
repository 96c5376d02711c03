import type { HandlerContext, HandlersFor } from './context.js';

export function settingsHandlers({
  settings,
}: HandlerContext): HandlersFor<'settings.get' | 'settings.update'> {
  return {
    'settings.get': async () => settings().get(),
    'settings.update': async (patch) => settings().update(patch),
  };
}
