import { useEffect } from 'react';

/** Runs an effect once when a screen mounts (loading its data). */
export function useEffectOnce(effect: () => void): void {
  useEffect(effect, []);
}
