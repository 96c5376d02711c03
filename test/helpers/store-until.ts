import type { AppStore } from '../../src/renderer/store/index.js';

/** Resolves once `predicate` holds for the renderer's store (events arrive asynchronously). */
export function until(store: AppStore, predicate: () => boolean, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting for the store'));
    }, ms);
    const unsubscribe = store.subscribe(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}
