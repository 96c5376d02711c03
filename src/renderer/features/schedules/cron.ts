import cronstrue from 'cronstrue';

/** Presets for the cron editor: the timetables most people want, by name. */
export const CRON_PRESETS: ReadonlyArray<{ label: string; cron: string }> = [
  { label: 'Every hour', cron: '0 * * * *' },
  { label: 'Every 6 hours', cron: '0 */6 * * *' },
  { label: 'Every day at 02:00', cron: '0 2 * * *' },
  { label: 'Every weekday at 22:00', cron: '0 22 * * 1-5' },
  { label: 'Every Sunday at 03:00', cron: '0 3 * * 0' },
  { label: 'First day of the month at 04:00', cron: '0 4 1 * *' },
];

/** The preset a cron expression is, if any (so the preset menu shows it). */
export function presetOf(cron: string): string {
  const c = cron.trim().replace(/\s+/g, ' ');
  return CRON_PRESETS.find((p) => p.cron === c)?.cron ?? '';
}

/**
 * A cron expression in plain words ("At 02:00 AM"), or an error sentence: cronstrue's
 * description, used only for display; the engine's parser decides what is valid.
 */
export function describeCron(cron: string): { text: string; ok: boolean } {
  const fields = cron.trim().split(/\s+/).filter(Boolean).length;
  if (fields !== 5 && fields !== 6)
    return { text: 'A cron expression has 5 fields: minute hour day month weekday.', ok: false };
  try {
    return {
      text: cronstrue.toString(cron, { use24HourTimeFormat: true, verbose: true }),
      ok: true,
    };
  } catch (error) {
    return { text: `Not a valid cron expression: ${String(error)}`, ok: false };
  }
}

/** Every IANA time zone this runtime knows, for the time zone picker. */
export function timeZones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const zones = intl.supportedValuesOf?.('timeZone') ?? [];
  return zones.includes('UTC') ? zones : ['UTC', ...zones];
}
