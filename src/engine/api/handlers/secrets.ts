import type { HandlerContext, HandlersFor } from './context.js';

export function secretHandlers({
  secrets,
}: HandlerContext): HandlersFor<'secrets.protection' | 'secrets.acceptWeakStorage'> {
  return {
    'secrets.protection': async () => secrets.protection(),
    // Only the desktop store can need consent; elsewhere agreeing changes nothing.
    'secrets.acceptWeakStorage': async () => secrets.acceptWeakStorage?.() ?? secrets.protection(),
  };
}
