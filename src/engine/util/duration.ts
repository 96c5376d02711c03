import { AppError } from '../../shared/errors.js';

const UNIT_MS = { d: 86_400_000, h: 3_600_000, m: 60_000 } as const;

/**
 * Parses a duration such as "90d", "12h", "30m" or "1d12h" into milliseconds. Only
 * days, hours and minutes: intervals of key rotation and safe ages of leftovers are
 * never shorter, and a bare number would leave the unit to guesswork.
 */
export function parseDuration(text: string, what: string): number {
  const value = text.trim().toLowerCase();
  const parts = [...value.matchAll(/(\d+)([dhm])/g)];
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MS[unit as 'd'], 0);
  if (!value || parts.map((p) => p[0]).join('') !== value || ms <= 0) {
    throw new AppError(
      'INVALID_ARGUMENT',
      `${what} must be a duration like 90d, 12h or 30m (days, hours, minutes; more than zero), not "${text}".`,
    );
  }
  return ms;
}

/** Milliseconds as the largest whole unit that fits ("90d", "36h", "5m"), for messages. */
export function formatDuration(ms: number): string {
  for (const [unit, size] of Object.entries(UNIT_MS)) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${Math.round(ms / 1000)}s`;
}
