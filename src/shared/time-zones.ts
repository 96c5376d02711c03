/**
 * Dates shown in a chosen IANA time zone (a schedule's), pure Intl: the same text in the
 * engine's answers and on screen, whatever zone the machine itself is in.
 */

export interface ZonedTime {
  /** "2026-11-30" in the zone. */
  date: string;
  /** "02:00" (24-hour) in the zone. */
  time: string;
  /** "Mon". */
  weekday: string;
  /** "GMT+1", "UTC", "GMT-5". */
  offset: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      weekday: 'short',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

export function zonedTime(at: Date | string, timeZone: string): ZonedTime {
  const parts = Object.fromEntries(
    formatterFor(timeZone)
      .formatToParts(typeof at === 'string' ? new Date(at) : at)
      .map((p) => [p.type, p.value]),
  );
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    time: `${parts.hour}:${parts.minute}`,
    weekday: parts.weekday ?? '',
    offset: parts.timeZoneName ?? timeZone,
  };
}

/** "Mon 2026-11-30 02:00 (GMT+1)". */
export function formatInZone(at: Date | string, timeZone: string): string {
  const z = zonedTime(at, timeZone);
  return `${z.weekday} ${z.date} ${z.time} (${z.offset})`;
}
